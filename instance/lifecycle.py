"""Open and close the per-process connections: Tortoise, Redis, the arq pool, the HTTP client."""

from __future__ import annotations

import gc
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from arq import create_pool
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from tortoise import Tortoise

from activitypub.client import FetchPolicy, SafeClient
from instance.backing import arq_redis_settings
from instance.config import VERSION, Settings
from models import replica_client, tortoise_config
from search.reader import SearchReader
from search.store import location
from services import domains, reads, redisclient, token_cache
from services.backends import Backends
from services.local_caches import Listener
from services.rediscluster import Cache
from services.token_cache import LocalTokens

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
    database = settings.database
    await Tortoise.init(config=tortoise_config(database.url), _enable_global_fallback=True)
    replicas = [replica_client(url, f"replica{i}") for i, url in enumerate(database.replica_urls)]
    reads.configure(replicas, database.replica_max_lag_seconds)


async def close_orm() -> None:
    await reads.close()
    await Tortoise.close_connections()


def open_cache(settings: Settings) -> tuple[Cache, Redis | None]:
    """The cache client, and for a cluster a plain client to the configured node for pub/sub
    (redis-py 5's asyncio cluster has no pubsub; a cluster broadcasts PUBLISH to every node)."""
    url = settings.redis.cache
    if not settings.redis.cache_cluster:
        return redisclient.from_url(url), None
    # The cluster client picks its own connection class (plain or TLS) per node.
    return RedisCluster.from_url(url), redisclient.from_url(url)


async def open_backends(settings: Settings, *, init_orm: bool = True) -> Backends:
    """Connect to Postgres (unless the caller already did), Redis and the job queue."""
    if init_orm:
        await open_orm(settings)
    redis, pubsub = open_cache(settings)
    queue = await create_pool(arq_redis_settings(settings.redis.url))
    http = SafeClient(fetch_policy(settings))
    search = SearchReader(location(settings.storage.data_dir))
    log.info("backends open", extra={"database": without_password(settings.database.url)})
    tokens: LocalTokens[Any] = LocalTokens()
    listener = Listener(
        pubsub if pubsub is not None else redis,
        {token_cache.CHANNEL: tokens, domains.CHANNEL: domains.LOCAL},
    )
    listener.start()
    return Backends(
        settings=settings,
        redis=redis,
        queue=queue,
        http=http,
        search=search,
        pubsub=pubsub,
        tokens=tokens,
        listener=listener,
    )


# A young collection every so many new container objects, not 700: a home read makes
# thousands, nearly all freed by their reference counts before a collection would look at them.
GC_YOUNG_THRESHOLD = 20_000


def freeze_startup_heap() -> None:
    """Move what starting made (modules, models, routes, templates, open connections: alive as
    long as the process) out of the cyclic collector's reach. Each full collection walked all
    of it again: under load the collector was about 5 % of a web process's CPU (perf, home
    timeline under wrk). Called once the process is ready to serve."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


async def close_backends(backends: Backends, *, close_orm: bool = True) -> None:
    if backends.listener is not None:
        await backends.listener.stop()
    if backends.search is not None:
        backends.search.close()
    await backends.http.aclose()
    await backends.queue.aclose()
    await backends.redis.aclose()
    if backends.pubsub is not None:
        await backends.pubsub.aclose()
    if close_orm:
        await reads.close()
        await Tortoise.close_connections()
