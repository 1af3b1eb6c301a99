"""``Server-Timing: app;dur=…``: time a request spent in the app, for operators and benchmarks."""

from __future__ import annotations

import time

from quart import Quart, Response, g


def register_server_timing(app: Quart) -> None:
    @app.before_request
    async def start_clock() -> None:
        g.started = time.perf_counter()

    @app.after_request
    async def stop_clock(response: Response) -> Response:
        started = g.get("started")
        if started is not None:
            response.headers["Server-Timing"] = (
                f"app;dur={(time.perf_counter() - started) * 1e3:.2f}"
            )
        return response
