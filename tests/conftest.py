"""Test set-up on real services: PostgreSQL and Redis at the default addresses, or embedded ones.

One database per test session (created with the models' schema, dropped at the end), one
Redis database flushed before each test, and every table truncated after each test, so each
test sees real commits and starts from nothing.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from quart import Quart
from quart.typing import TestClientProtocol
from redis.asyncio import Redis
from tortoise import Tortoise
from tortoise.contrib.test import truncate_all_models

from instance import lifecycle
from instance.app import create_app
from instance.backing import ensure_database, resolve_backing_services
from instance.config import Settings, load_settings
from models import tortoise_config
from models.migrate import apply_migrations
from services.backends import Backends
from services.domains import forget_cached_states
from services.instance import forget_site
from services.remote.fetch import forget_instance_actor
from services.remote.keys import forget_cached_keys
from tests.support import drop_database, private_redis, redis_url_with_db, with_database_name

ROOT = Path(__file__).resolve().parent.parent
TEST_REDIS_DB = 13


@pytest.fixture(scope="session")
def service_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Base PostgreSQL URL (configured, found at the default address, or embedded) and the URL
    of a Redis server private to this session."""
    base = load_settings(
        path=ROOT / "config.toml",
        env={
            key: value
            for key, value in os.environ.items()
            if key in ("STARLING_DATABASE_URL", "STARLING_REDIS_URL")
        }
        | {"STARLING_STORAGE_DATA_DIR": str(ROOT / "var")},
    )
    resolved, embedded = resolve_backing_services(base)
    try:
        with private_redis(tmp_path_factory.mktemp("redis")) as redis_url:
            yield resolved.database.url, redis_url
    finally:
        if embedded is not None:
            embedded.close()


@pytest.fixture(scope="session")
def settings(service_urls: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Settings:
    database_url, redis_url = service_urls
    return load_settings(
        path=ROOT / "config.toml",
        env={
            "STARLING_INSTANCE_DOMAIN": "starling.test",
            "STARLING_INSTANCE_NAME": "Starling Test",
            "STARLING_INSTANCE_HTTPS": "true",
            "STARLING_DATABASE_URL": with_database_name(
                database_url, f"starling_test_{os.getpid()}"
            ),
            "STARLING_REDIS_URL": redis_url_with_db(redis_url, TEST_REDIS_DB),
            "STARLING_STORAGE_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        },
    )


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[str]:
    """A fresh database built by the real migrations (so with their triggers and indexes),
    for the whole session."""
    url = settings.database.url
    await drop_database(url)
    await ensure_database(url)
    await apply_migrations(url)
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    yield url
    await Tortoise.close_connections()
    await drop_database(url)


@pytest.fixture
async def backends(settings: Settings, database: str) -> AsyncIterator[Backends]:
    redis = Redis.from_url(settings.redis.url)
    await redis.flushdb()
    await redis.aclose()
    opened = await lifecycle.open_backends(settings, init_orm=False)
    yield opened
    await lifecycle.close_backends(opened, close_orm=False)
    await truncate_all_models()
    # Process caches of rows that truncation just removed.
    forget_instance_actor()
    forget_cached_keys()
    forget_cached_states()
    forget_site()


@pytest.fixture
def app(settings: Settings, backends: Backends) -> Quart:
    return create_app(settings, backends)


@pytest.fixture
def client(app: Quart) -> TestClientProtocol:
    return app.test_client()
