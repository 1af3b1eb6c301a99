"""Read replicas from the web side: GET requests may read from one, writers read their writes.

Each GET/HEAD request opens a read scope (services/reads); its reads learn who is reading
only when a replica is about to be chosen, from the bearer token or the web session, which
the view resolves anyway (``g`` keeps them). Every other method is a write: when a signed-in
account made it, its reads go to the primary for the next few seconds. Nothing here runs
when no replica is configured.
"""

from __future__ import annotations

from quart import Quart, Response, g, request

from instance.config import Settings
from services import reads
from web.api.auth import bearer_token, current_token
from web.deps import backends
from web.ui.session import SESSION_COOKIE, current_session

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _viewer() -> int | None:
    """The account reading: the token's, else the web session's, else None (a visitor)."""
    if "token" in g or bearer_token():
        token = await current_token()
        if token is not None and token.account_id is not None:
            return token.account_id
    if "web_session" in g or request.cookies.get(SESSION_COOKIE):
        session = await current_session()
        if session is not None:
            return session.account_id
    return None


def _writer() -> int | None:
    """Who made this write, as far as the view found out (it resolves its own auth)."""
    token = g.get("token")
    if token is not None and token.account_id is not None:
        return token.account_id
    session = g.get("web_session")
    return session.account_id if session is not None else None


def register_read_routing(app: Quart, settings: Settings) -> None:
    if not settings.database.replica_urls:
        return

    @app.before_request
    async def open_read_scope() -> None:
        if request.method in READ_METHODS:
            reads.current_scope.set(reads.ReadScope(backends().redis, _viewer))

    @app.after_request
    async def mark_writer(response: Response) -> Response:
        if request.method not in READ_METHODS:
            writer = _writer()
            if writer is not None:
                await reads.mark_wrote(backends().redis, writer)
        return response

    @app.teardown_request
    async def close_read_scope(_exc: BaseException | None) -> None:
        reads.current_scope.set(None)
