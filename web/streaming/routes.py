"""The streaming endpoints: WebSocket, server-sent events, health (see the package docstring)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from quart import Blueprint, Response, current_app, request, websocket

from services import scopes, web_sessions
from services.errors import BadRequest, Forbidden, StarlingError, Unauthorized
from services.oauth import authenticate_token
from web.deps import backends
from web.errors import domain_status, error_response
from web.streaming.connection import Connection, Stream, sse_message, websocket_message
from web.streaming.hub import Hub
from web.ui.session import SESSION_COOKIE, current_session

streaming = Blueprint("streaming", __name__)

HUB_KEY = "starling_stream_hub"
LOCK_KEY = "starling_stream_hub_lock"
HEARTBEAT_SECONDS = 15.0
STREAMS = frozenset(
    {"user", "user:notification", "direct", "public", "public:local", "public:remote"}
    | {"hashtag", "hashtag:local"}
)
SIGNED_IN_STREAMS = frozenset({"user", "user:notification", "direct"})
# Which scope each stream needs of a token (a parent scope, "read", grants them too).
_SCOPE = {"user:notification": "read:notifications"}
# The server-sent-events paths, as Mastodon names them.
_SSE_PATHS = {
    "user": "user",
    "user/notification": "user:notification",
    "direct": "direct",
    "public": "public",
    "public/local": "public:local",
    "public/remote": "public:remote",
    "hashtag": "hashtag",
    "hashtag/local": "hashtag:local",
}


async def hub() -> Hub:
    """This process's hub, started by the first stream."""
    extensions = current_app.extensions
    async with extensions[LOCK_KEY]:
        if HUB_KEY not in extensions:
            started = Hub(backends(), current_app.config["STARLING_SETTINGS"])
            await started.start()
            extensions[HUB_KEY] = started
    return extensions[HUB_KEY]


class Viewer:
    """Who opened the stream: a token's account and scopes, a web session, or nobody."""

    def __init__(
        self,
        account_id: int | None,
        held: frozenset[str] | None,
        still_allowed: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self.account_id, self.held = account_id, held  # held None: a web session (all scopes)
        self.still_allowed = still_allowed

    def may(self, scope: str) -> bool:
        return self.held is None or scopes.grants(self.held, scope)

    def connection(self) -> Connection:
        notices = self.may("read:notifications")
        return Connection(self.account_id, notifications=notices, still_allowed=self.still_allowed)


async def _viewer(raw_token: str | None, *, cookie: bool) -> Viewer:
    redis = backends().redis
    if raw_token:
        token = await authenticate_token(raw_token, redis)

        async def token_live() -> bool:
            try:
                await authenticate_token(raw_token, redis)
            except Unauthorized:
                return False
            return True

        return Viewer(token.account_id, token.scopes, token_live)
    raw_session = request.cookies.get(SESSION_COOKIE) if cookie else None
    if raw_session and (session := await current_session()) is not None:

        async def session_live() -> bool:
            return await web_sessions.load(redis, raw_session) is not None

        return Viewer(session.account_id, None, session_live)
    return Viewer(None, frozenset())


def parse_stream(name: str | None, tag: str | None, viewer: Viewer) -> Stream:
    """A stream the viewer may open, or the error Mastodon answers."""
    if not name or name not in STREAMS:
        raise BadRequest("Unknown stream type")
    if name.startswith("hashtag"):
        tag = (tag or "").strip().lstrip("#").lower()
        if not tag:
            raise BadRequest("No tag for stream provided")
    else:
        tag = None
    if name in SIGNED_IN_STREAMS and viewer.account_id is None:
        raise Unauthorized("Missing access token")
    if viewer.account_id is not None and not viewer.may(_SCOPE.get(name, "read:statuses")):
        raise Forbidden("Access token does not have the required scopes")
    return Stream(name, tag)


def _bearer(headers: Any, args: Any) -> str | None:
    scheme, _, value = headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return args.get("access_token") or None


# --- health and server-sent events -------------------------------------------------------


@streaming.get("/api/v1/streaming/health")
async def health() -> Response:
    return Response("OK", content_type="text/plain; charset=utf-8")


@streaming.get("/api/v1/streaming")
@streaming.get("/api/v1/streaming/<path:path>")
async def events(path: str | None = None) -> Response:
    name = _SSE_PATHS.get(path) if path is not None else request.args.get("stream")
    if path is not None and name is None:
        raise BadRequest("Unknown stream type")
    viewer = await _viewer(_bearer(request.headers, request.args), cookie=True)
    stream = parse_stream(name, request.args.get("tag"), viewer)
    connection = viewer.connection()
    the_hub = await hub()
    await the_hub.add(connection, stream)  # in place before the first byte is sent
    response = Response(
        _event_source(the_hub, connection), content_type="text/event-stream; charset=utf-8"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass events on as they come
    response.timeout = None  # a stream lasts as long as the client stays
    return response


async def _event_source(the_hub: Hub, connection: Connection) -> AsyncIterator[bytes]:
    try:
        yield b":)\n\n"
        while True:
            try:
                message = await asyncio.wait_for(connection.next_message(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield b":thump\n\n"  # keeps proxies from closing an idle stream
                continue
            if message is None:
                return  # dropped: the client reconnects (EventSource does by itself)
            _stream, event, payload = message
            yield sse_message(event, payload).encode()
    finally:
        await the_hub.remove(connection)


# --- WebSocket ------------------------------------------------------------------------------


@streaming.websocket("/api/v1/streaming")
@streaming.websocket("/api/v1/streaming/")
async def socket() -> Response | None:
    offered = websocket.requested_subprotocols  # Sec-WebSocket-Protocol, as ASGI lists it
    protocol = offered[0].strip() if offered else ""
    try:
        viewer = await _viewer(_bearer(websocket.headers, websocket.args) or protocol, cookie=False)
        first = None
        if websocket.args.get("stream"):
            first = parse_stream(websocket.args["stream"], websocket.args.get("tag"), viewer)
    except StarlingError as exc:
        # Refused before the upgrade, with Mastodon's JSON error.
        return error_response(domain_status(exc), exc.message)
    the_hub, connection = await hub(), viewer.connection()
    if first is not None:  # in place before the client sees the upgrade
        await the_hub.add(connection, first)
    await websocket.accept(subprotocol=protocol or None)
    commands = asyncio.create_task(_commands(the_hub, connection, viewer))
    try:
        await _send_until_dropped(connection)
    finally:
        commands.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await commands
        await the_hub.remove(connection)
    return None


async def _send_until_dropped(connection: Connection) -> None:
    while (message := await connection.next_message()) is not None:
        await websocket.send(websocket_message(*message))
    if connection.revoked:  # 1008: policy violation
        await websocket.close(1008, "access ended")
    else:  # it fell behind; 1013: try again later
        await websocket.close(1013, "too slow: reconnect")


async def _commands(the_hub: Hub, connection: Connection, viewer: Viewer) -> None:
    """``{"type": "subscribe", "stream": "hashtag", "tag": "cats"}`` and ``unsubscribe``."""
    while True:
        raw = await websocket.receive()
        try:
            command = orjson.loads(raw)
            kind = command.get("type") if isinstance(command, dict) else None
            if kind not in ("subscribe", "unsubscribe"):
                raise BadRequest("Unknown message type")
            stream = parse_stream(command.get("stream"), command.get("tag"), viewer)
        except (orjson.JSONDecodeError, StarlingError) as exc:
            status = domain_status(exc) if isinstance(exc, StarlingError) else 400
            text = exc.message if isinstance(exc, StarlingError) else "Invalid JSON"
            await websocket.send(orjson.dumps({"error": text, "status": status}).decode())
            continue
        if kind == "subscribe":
            await the_hub.add(connection, stream)
        else:
            await the_hub.remove(connection, stream)
