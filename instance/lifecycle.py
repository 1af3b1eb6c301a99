"""Open and close the per-process connections: Tortoise, Redis, the arq pool, the HTTP client."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

from arq import create_pool
from redis.asyncio import Redis
from tortoise import Tortoise

from activitypub.client import FetchPolicy, SafeClient
from instance.backing import arq_redis_settings
from instance.config import VERSION, Settings
from models import tortoise_config
from search.reader import SearchReader
from search.store import location
from services.backends import Backends

log = logging.getLogger(__name__)


def fetch_policy(settings: Settings) -> FetchPolicy:
    """Outbound requests as the federation settings allow them (production: https, public only)."""
    federation = settings.federation
    return FetchPolicy(
        allow_http=federation.allow_http,
        allowed_private_networks=federation.allowed_private_networks,
        user_agent=f"Starling/{VERSION} (+{settings.base_url}/)",
    )


def without_password(url: str) -> str:
    """A URL fit for a log line: its password, if any, masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def open_orm(settings: Settings) -> None:
    # Tortoise 1.x keeps connections in a ContextVar; Quart's before_serving and arq's
    # on_startup run in another task than requests and jobs, hence the global fallback.
    await Tortoise.init(config=tortoise_config(settings.database.url), _enable_global_fallback=True)


async def close_orm() -> None:
    await Tortoise.close_connections()


async def open_backends(settings: Settings, *, init_orm: bool = True) -> Backends:
    """Connect to Postgres (unless the caller already did), Redis and the job queue."""
    if init_orm:
        await open_orm(settings)
    redis = Redis.from_url(settings.redis.url)
    queue = await create_pool(arq_redis_settings(settings.redis.url))
    http = SafeClient(fetch_policy(settings))
    search = SearchReader(location(settings.storage.data_dir))
    log.info("backends open", extra={"database": without_password(settings.database.url)})
    return Backends(settings=settings, redis=redis, queue=queue, http=http, search=search)


async def close_backends(backends: Backends, *, close_orm: bool = True) -> None:
    if backends.search is not None:
        backends.search.close()
    await backends.http.aclose()
    await backends.queue.aclose()
    await backends.redis.aclose()
    if close_orm:
        await Tortoise.close_connections()
