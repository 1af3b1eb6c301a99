"""One client's open stream (a WebSocket, which may carry several subscriptions, or one SSE
response): who is watching, what they filter out, and a bounded queue of what to send."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson

from services.statuses import ViewerState, relations

QUEUE_LIMIT = 200  # messages waiting for a slow client before it is dropped
RELATIONS_TTL_SECONDS = 60.0  # a safety net: changes are announced ("_relations")


@dataclass(frozen=True)
class Stream:
    """A subscription as Mastodon names it: ``["user"]``, ``["hashtag", "tag"]``..."""

    name: str
    tag: str | None = None

    @property
    def label(self) -> list[str]:
        return [self.name, self.tag] if self.tag is not None else [self.name]


class TooSlow(Exception):
    """The client did not keep up: its queue is full and it is dropped."""


class Connection:
    """A client's queue of outgoing (stream, event, payload) messages and its viewer state."""

    def __init__(
        self,
        account_id: int | None,
        *,
        notifications: bool = True,
        still_allowed: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self.account_id = account_id
        self.notifications = notifications  # the token may read notifications
        self._still_allowed = still_allowed  # the token or session is still good
        self.queue: asyncio.Queue[tuple[Stream, str, str]] = asyncio.Queue(QUEUE_LIMIT)
        self.dropped = asyncio.Event()
        self.revoked = False  # dropped because its access ended, not because it was slow
        self._relations: ViewerState | None = None
        self._loaded_at = 0.0

    def send(self, stream: Stream, event: str, payload: str) -> None:
        if self.dropped.is_set():
            return
        try:
            self.queue.put_nowait((stream, event, payload))
        except asyncio.QueueFull:
            self.dropped.set()  # never buffered without bound: the client reconnects

    async def next_message(self) -> tuple[Stream, str, str] | None:
        """The next message to send, or None once the stream is dropped."""
        if self.dropped.is_set():
            return None
        if not self.queue.empty():  # the common case under load: no waiting at all
            return self.queue.get_nowait()
        message = asyncio.ensure_future(self.queue.get())
        dropped = asyncio.ensure_future(self.dropped.wait())
        try:
            await asyncio.wait({message, dropped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            dropped.cancel()
            if not message.done():
                message.cancel()
        return None if self.dropped.is_set() else message.result()

    async def recheck(self) -> None:
        """End the stream when its token was revoked or its session ended (a suspension, a
        sign-out everywhere, a changed password)."""
        if self._still_allowed is not None and not await self._still_allowed():
            self.revoked = True
            self.dropped.set()

    def relations_changed(self) -> None:
        self._relations = None

    async def relations(self) -> ViewerState:
        """Whom the viewer follows, mutes and blocks (what the timelines' rules read), loaded
        at most once a minute unless a change was announced."""
        moment = time.monotonic()
        if self._relations is None or moment > self._loaded_at + RELATIONS_TTL_SECONDS:
            self._relations = await relations(self.account_id)
            self._loaded_at = moment
        return self._relations


def websocket_message(stream: Stream, event: str, payload: str) -> str:
    """Mastodon's WebSocket frame: the payload is itself a JSON string (or an id)."""
    return orjson.dumps({"stream": stream.label, "event": event, "payload": payload}).decode()


def sse_message(event: str, payload: str) -> str:
    return f"event: {event}\ndata: {payload}\n\n"
