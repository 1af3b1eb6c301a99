"""Mastodon's streaming API: ``/api/v1/streaming`` as a WebSocket (several subscriptions per
socket) and as server-sent events (one stream per response), and its health check.

A token comes in ``Authorization``, ``access_token`` or (WebSockets) ``Sec-WebSocket-Protocol``;
the web UI's server-sent events use its session cookie instead. Public and hashtag streams
need no token, as on Mastodon. Each web process runs one ``Hub`` (started by the first
stream, stopped with the app) that subscribes to what its streams need.
"""

from __future__ import annotations

import asyncio

from quart import Quart

from web.streaming.routes import HUB_KEY, LOCK_KEY, streaming

__all__ = ["register_streaming"]


def register_streaming(app: Quart) -> None:
    app.register_blueprint(streaming)
    app.extensions[LOCK_KEY] = asyncio.Lock()

    @app.after_serving
    async def stop_hub() -> None:
        running = app.extensions.pop(HUB_KEY, None)
        if running is not None:
            await running.stop()
