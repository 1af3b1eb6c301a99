"""Helpers for search tests: a fresh, real Whoosh index per test, and searching through the API."""

from __future__ import annotations

import shutil
from typing import Any

from quart.typing import TestClientProtocol

from instance.config import Settings
from search.store import location
from services import search_index
from tests.factories import bearer


async def fresh_index(settings: Settings) -> None:
    """An empty index of the current schema (the database is empty between tests)."""
    shutil.rmtree(location(settings.storage.data_dir).root, ignore_errors=True)
    await search_index.rebuild(settings)


async def indexed(settings: Settings) -> int:
    """Apply every waiting change, as the indexer's job does."""
    return await search_index.index_pending(settings)


async def search(
    client: TestClientProtocol, token: str | None, q: str, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        "/api/v2/search",
        query_string={"q": q, **params},
        headers=bearer(token) if token else {},
    )
    assert response.status_code == 200, await response.get_data(as_text=True)
    return await response.get_json()


async def found_texts(
    client: TestClientProtocol, token: str | None, q: str, **params: Any
) -> list[str]:
    """The plain texts of the statuses found, best first."""
    results = await search(client, token, q, type="statuses", **params)
    return [
        status["content"].removeprefix("<p>").removesuffix("</p>") for status in results["statuses"]
    ]
