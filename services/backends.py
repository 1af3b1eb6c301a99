"""The connections a service call may use, opened once per process by ``instance.lifecycle``.

Web handlers and worker tasks pass a ``Backends`` to the services that need Redis, the job
queue or the outbound HTTP client; the ORM is reached through Tortoise's own connection registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from redis.asyncio import Redis

from activitypub.client import SafeClient
from instance.config import Settings
from search.reader import SearchReader
from services.local_caches import Listener
from services.rediscluster import Cache
from services.token_cache import LocalTokens


@dataclass(frozen=True)
class Backends:
    settings: Settings
    # The cache (``redis.cache_url``; a RedisCluster when ``redis.cache_cluster``): timelines,
    # snapshots, rate limits, tokens, sessions, domain states, pub/sub. Never the job queues.
    redis: Cache
    queue: ArqRedis  # the job queues (``redis.url``); also what queue-depth metrics read
    http: SafeClient  # every request to another server goes through it (SSRF guard, limits)
    search: SearchReader | None = None  # reads the search index; None where nothing searches
    # Streaming subscriptions when the cache is a cluster: a plain connection to one node, as
    # a cluster delivers every PUBLISH to every node (None: subscribe on ``redis`` itself).
    pubsub: Redis | None = None
    # Token contexts this process used lately (services/token_cache); None: Redis every time.
    tokens: LocalTokens[Any] | None = None
    # Tells this process's local caches (tokens, domain states) what other processes changed.
    listener: Listener | None = None

    def subscriber(self) -> Redis:
        """The client to SUBSCRIBE on (the cache, or one of its nodes when it is a cluster)."""
        return self.pubsub if self.pubsub is not None else self.redis  # type: ignore[return-value]
