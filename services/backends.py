"""The connections a service call may use, opened once per process by ``instance.lifecycle``.

Web handlers and worker tasks pass a ``Backends`` to the services that need Redis, the job
queue or the outbound HTTP client; the ORM is reached through Tortoise's own connection registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from arq.connections import ArqRedis
from redis.asyncio import Redis

from activitypub.client import SafeClient
from instance.config import Settings
from search.reader import SearchReader


@dataclass(frozen=True)
class Backends:
    settings: Settings
    redis: Redis
    queue: ArqRedis
    http: SafeClient  # every request to another server goes through it (SSRF guard, limits)
    search: SearchReader | None = None  # reads the search index; None where nothing searches
