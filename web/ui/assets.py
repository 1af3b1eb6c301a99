"""Static files (CSS, JS, favicon) under fingerprinted URLs, so browsers may keep them a year.

``asset("starling.css")`` is ``/static/starling.css?v=<hash of its bytes>``: a changed file
gets a new URL, so a long cache never serves a stale one. The app serves web/static/ itself.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from quart import Response, request

from web.ui.blueprint import ui

STATIC = Path(__file__).resolve().parent.parent / "static"
YEAR = "public, max-age=31536000, immutable"
UNVERSIONED = "public, max-age=3600"


@cache
def _fingerprint(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


@ui.app_template_global()
def asset(name: str) -> str:
    return f"/static/{name}?v={_fingerprint(name)}"


@ui.after_app_request
async def cache_static(response: Response) -> Response:
    if request.path.startswith("/static/") and response.status_code == 200:
        response.headers["Cache-Control"] = YEAR if request.args.get("v") else UNVERSIONED
    return response
