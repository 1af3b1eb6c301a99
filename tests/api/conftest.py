from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.instances import RunningInstance, fresh_instance

INSTANCE_REDIS_DB = 12


@pytest.fixture
async def instance(
    service_urls: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningInstance]:
    """A fresh instance started by ``starling run`` (real migrations, web and worker)."""
    async with fresh_instance(
        service_urls, "api", INSTANCE_REDIS_DB, tmp_path_factory.mktemp("api")
    ) as running:
        yield running
