"""Around every request: its id (``X-Request-Id``, on every log line emitted while handling it),
``Server-Timing: app;dur=…`` and one observation of the request histogram in services/metrics,
labelled by the route's template (``/users/<username>``), never the raw path."""

from __future__ import annotations

import re
import time
from typing import Any
from uuid import uuid4

from quart import Quart, Response, g, request

from services import logcontext, metrics

REQUEST_ID = "X-Request-Id"
# An id from the proxy in front (Caddy, nginx, a load balancer) is kept so both logs line up;
# anything long or odd is replaced, as it would end up in log lines and headers.
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}")
UNMATCHED = "<unmatched>"  # no route: a 404, or a 405 for an unknown method
# Any other method string a client invents is one label value, not one each.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _request_id() -> str:
    incoming = request.headers.get(REQUEST_ID, "")
    return incoming if _SANE_ID.fullmatch(incoming) else uuid4().hex


def register_server_timing(app: Quart) -> None:
    # One labelled child per (method, route, status): labels() validates and locks each call.
    observers: dict[tuple[str, str, int], Any] = {}

    @app.before_request
    async def start_clock() -> None:
        g.started = time.perf_counter()
        g.request_id = _request_id()
        logcontext.request_id.set(g.request_id)

    @app.after_request
    async def stop_clock(response: Response) -> Response:
        started = g.get("started")
        if started is not None:
            elapsed = time.perf_counter() - started
            response.headers["Server-Timing"] = f"app;dur={elapsed * 1e3:.2f}"
            rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED
            method = request.method if request.method in METHODS else "OTHER"
            key = (method, rule, response.status_code)
            observer = observers.get(key)
            if observer is None:
                observer = observers[key] = metrics.HTTP_REQUESTS.labels(*key)
            observer.observe(elapsed)
        request_id = g.get("request_id")
        if request_id is not None:
            response.headers[REQUEST_ID] = request_id
        return response
