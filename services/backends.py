"""The connections a service call may use, opened once per process by ``instance.lifecycle``.

Web handlers and worker tasks pass a ``Backends`` to the services that need Redis or the job
queue; the ORM is reached through Tortoise's own connection registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from arq.connections import ArqRedis
from redis.asyncio import Redis

from instance.config import Settings


@dataclass(frozen=True)
class Backends:
    settings: Settings
    redis: Redis
    queue: ArqRedis
