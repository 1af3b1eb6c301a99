"""Token contexts kept in each web process for a few seconds, forgotten everywhere on revoke.

Every API request authenticates its bearer token. Redis holds the contexts for a minute
(``services.oauth``); this keeps the ones a process used lately in its own memory, so the hot
path costs no round trip at all. A revocation deletes the Redis entry and publishes the
token's digest on ``CHANNEL``; every process drops its copy when it hears it.

A process trusts its copies only while it is subscribed (``services.local_caches``): before the
subscription is confirmed, and whenever pub/sub is lost, it forgets them all and reads Redis.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable
from typing import Generic, TypeVar

from services import rediscluster
from services.rediscluster import Cache

CHANNEL = "token:forget"
# How long a copy lives: a change that is not published (a suspension, which ends access by
# revoking the tokens, is) reaches this process within the Redis TTL plus this.
LOCAL_TTL_SECONDS = 10.0
MAX_ENTRIES = 20_000

Context = TypeVar("Context")

# This process's caches: a revocation made here is forgotten here before it returns, not when
# its own message comes back (the next request could come first).
_in_this_process: weakref.WeakSet[LocalTokens[object]] = weakref.WeakSet()


class LocalTokens(Generic[Context]):
    """One process's copies of token contexts by digest, valid while it hears ``CHANNEL``
    (``services.local_caches.Listener`` tells it)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Context]] = {}
        self._listening = False
        # Counts what was forgotten: a context read before a revocation was heard is not kept.
        self.generation = 0
        _in_this_process.add(self)

    @property
    def listening(self) -> bool:
        """Whether copies are kept: the subscription is confirmed and has not been lost."""
        return self._listening

    def get(self, digest: str) -> Context | None:
        entry = self._entries.get(digest) if self._listening else None
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, digest: str, context: Context, read_at_generation: int) -> None:
        """Keep ``context``, read from Redis or Postgres when ``generation`` was as given."""
        if not self._listening or read_at_generation != self.generation:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # rare: a process serving that many tokens at once
        self._entries[digest] = (time.monotonic() + LOCAL_TTL_SECONDS, context)

    def forget(self, digests: Iterable[str]) -> None:
        self.generation += 1
        for digest in digests:
            self._entries.pop(digest, None)

    def trust(self, listening: bool) -> None:
        self._listening = listening
        self.generation += 1
        self._entries.clear()

    def heard(self, data: bytes) -> None:
        self.forget(data.decode().split(","))


async def publish_forget(redis: Cache, digests: list[str]) -> None:
    """Tell every process to drop these tokens' copies (after their Redis entries are gone)."""
    if digests:
        for local in list(_in_this_process):
            local.forget(digests)
        await rediscluster.publish(redis, [CHANNEL], ",".join(digests))
