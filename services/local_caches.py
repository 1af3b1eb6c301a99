"""What a process keeps in its own memory, and the one subscription that says what to forget.

A process keeps copies of a few things it reads on every request (token contexts, the domains
that are blocked or in trouble) so the hot path costs no round trip. Whoever changes one of
them publishes on that cache's channel, and every process drops its copy when it hears it.

A copy is trusted only while the process is subscribed: before the subscription is confirmed,
and whenever pub/sub is lost (a message may have been missed), each cache is told to forget
everything and read the source meanwhile, as it would without a local copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


class LocalCache(Protocol):
    def trust(self, listening: bool) -> None:
        """The subscription was confirmed (True) or lost (False): forget every copy."""

    def heard(self, data: bytes) -> None:
        """Another process published ``data`` on this cache's channel."""


class Listener:
    """One process's subscription to the channels of its local caches."""

    def __init__(self, subscriber: Redis, caches: Mapping[str, LocalCache]) -> None:
        self._subscriber = subscriber
        self._caches = dict(caches)
        self._trusted: set[str] = set()  # channels whose subscription is confirmed
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Subscribe in the background (in the running event loop); again is a no-op."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        self._untrust()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _untrust(self) -> None:
        for channel in self._trusted:
            self._caches[channel].trust(False)
        self._trusted.clear()

    async def _listen(self) -> None:
        while True:
            pubsub = self._subscriber.pubsub()
            try:
                await pubsub.subscribe(*self._caches)
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    channel = message["channel"].decode()
                    if message["type"] == "subscribe" and channel not in self._trusted:
                        self._trusted.add(channel)
                        self._caches[channel].trust(True)
                    elif message["type"] == "message":
                        self._caches[channel].heard(message["data"])
            except (RedisError, OSError) as exc:
                log.warning("local caches: Redis pub/sub lost, reading sources meanwhile: %s", exc)
                self._untrust()
                await asyncio.sleep(RETRY_SECONDS)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
