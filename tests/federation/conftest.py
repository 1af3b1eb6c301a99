"""Fixtures for federation tests: a cluster of real instances per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.federation.cluster import Cluster
from tests.instances import RunningInstance


@pytest.fixture(scope="module")
def cluster(
    service_urls: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    server_url, redis_server_url = service_urls
    running = Cluster(server_url, redis_server_url, tmp_path_factory.mktemp("federation"))
    try:
        yield running
    finally:
        running.stop_all()


@pytest.fixture(scope="module")
def a(cluster: Cluster) -> RunningInstance:
    return cluster.start("a", redis_db=1)


@pytest.fixture(scope="module")
def b(cluster: Cluster) -> RunningInstance:
    return cluster.start("b", redis_db=2)
