from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.instances import RunningInstance, instance_database_url, start_instance
from tests.support import drop_database, redis_url_with_db

INSTANCE_REDIS_DB = 12


@pytest.fixture
async def instance(
    service_urls: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningInstance]:
    """A fresh instance started by ``starling run`` (real migrations, web and worker)."""
    server_url, redis_server_url = service_urls
    database_url = instance_database_url(server_url, "api")
    redis_url = redis_url_with_db(redis_server_url, INSTANCE_REDIS_DB)
    await drop_database(database_url)
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    running = start_instance("api", database_url, redis_url, tmp_path_factory.mktemp("api"))
    yield running
    running.stop()
    await drop_database(database_url)
