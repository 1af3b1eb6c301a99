"""Fixtures for integration tests that talk to (fake) remote servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from quart.typing import TestClientProtocol

from instance.app import create_app
from instance.config import Settings
from services.backends import Backends
from tests.fakes import Fediverse
from tests.integration.oidc_support import FakeIssuer, fake_issuer_server, mock_provider_server
from tests.redis_cluster import backends_on_cluster, redis_cluster


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real 3-node Redis Cluster on loopback ports for this session (tests/redis_cluster)."""
    with redis_cluster(tmp_path_factory.mktemp("redis-cluster")) as url:
        yield url


@pytest.fixture
async def cluster_backends(
    settings: Settings, backends: Backends, redis_cluster_url: str
) -> AsyncIterator[Backends]:
    """Backends whose cache (``redis.cache_url``) is the Redis Cluster, emptied first; the job
    queues stay on the plain test Redis. ``backends`` still resets the database around the
    test; workers built from ``cluster_backends.settings`` use the cluster too."""
    async with backends_on_cluster(settings, redis_cluster_url) as opened:
        yield opened


@pytest.fixture
def fediverse() -> Fediverse:
    """Fake remote servers, reached through the real SafeClient."""
    return Fediverse()


@pytest.fixture
def fed(backends: Backends, fediverse: Fediverse) -> Backends:
    """The test's backends, with outbound HTTP going to the fake fediverse."""
    return fediverse.backends(backends)


@pytest.fixture
def peer_client(settings: Settings, fed: Backends) -> TestClientProtocol:
    """The app, reaching the fake fediverse for keys, actors and posts."""
    return create_app(settings, fed).test_client()


@pytest.fixture(scope="session")
def mock_provider() -> Iterator[str]:
    """A real OpenID provider (oidc-provider-mock) on a loopback port: its issuer URL."""
    with mock_provider_server() as url:
        yield url


@pytest.fixture
def fake_issuer() -> Iterator[FakeIssuer]:
    """An issuer of our own whose ID tokens each test shapes (wrong audience, bad signature...)."""
    with fake_issuer_server() as issuer:
        yield issuer


@pytest.fixture
def queries() -> Iterator[list[str]]:
    """Every statement sent to Postgres while the test runs (a spy: the queries still run)."""
    sent: list[str] = []
    original = asyncpg.connection.Connection._do_execute

    async def spy(self, query, *args, **kwargs):
        sent.append(query)
        return await original(self, query, *args, **kwargs)

    asyncpg.connection.Connection._do_execute = spy
    try:
        yield sent
    finally:
        asyncpg.connection.Connection._do_execute = original
