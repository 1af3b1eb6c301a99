"""Keeping the index: built when missing or old, a crash or a killed indexer loses nothing,
two writers never meet, a damaged index is a 503 and not a crash, and rebuilding or posting
while people search works."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from tortoise import connections

from models.posts import SearchChange
from search import store
from services import search_index
from tests.factories import bearer, make_post, member
from tests.instances import ROOT
from tests.integration.search_support import found_texts, fresh_index, indexed, search
from workers import search as search_worker

CHILD = """
import asyncio, sys
from instance import lifecycle
from instance.config import load_settings
from services import search_index
from workers import search as search_worker

async def main(mode):
    settings = load_settings()
    await lifecycle.open_orm(settings)
    if mode == "slow":
        print(await search_index.index_pending(settings, batch=20), flush=True)
    else:
        print(await search_worker.index_search({"settings": settings}), flush=True)
    await lifecycle.close_orm()

asyncio.run(main(sys.argv[1]))
"""


def child_env(settings) -> dict[str, str]:
    return {
        **os.environ,
        "STARLING_INSTANCE_DOMAIN": settings.instance.domain,
        "STARLING_DATABASE_URL": settings.database.url,
        "STARLING_REDIS_URL": settings.redis.url,
        "STARLING_STORAGE_DATA_DIR": str(settings.storage.data_dir),
    }


def indexer_process(settings, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, mode], cwd=ROOT, env=child_env(settings),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


async def many_posts(settings, count: int) -> str:
    """``count`` posts saying "bulk", written in one statement; returns a token to search."""
    alice, token = await member(settings, "alice")
    await connections.get("default").execute_query(
        "INSERT INTO posts (id, author_id, uri, text, html, created_at) "
        "SELECT 1000 + n, $1, 'https://starling.test/p/' || n, '', '<p>bulk ' || n || '</p>',"
        " now() FROM generate_series(1, $2) AS n",
        [alice.id, count],
    )
    return token


async def bulk_count(client, token) -> int:
    found = await search(client, token, "bulk", type="statuses", limit=40)
    return len(found["statuses"])


async def test_the_indexer_job_builds_a_missing_index_then_applies_changes(client, settings):
    place = store.location(settings.storage.data_dir)
    shutil.rmtree(place.root, ignore_errors=True)
    alice, token = await member(settings, "alice")
    await make_post(alice, "before the index existed")

    unavailable = await client.get("/api/v2/search?q=index&type=statuses", headers=bearer(token))
    assert unavailable.status_code == 503
    assert "error" in await unavailable.get_json()

    await search_worker.index_search({"settings": settings})
    await asyncio.sleep(search_worker_retry())  # the reader retries a failed open after a pause
    assert await found_texts(client, token, "index") == ["before the index existed"]
    assert await SearchChange.all().count() == 0


def search_worker_retry() -> float:
    from search.reader import RETRY_SECONDS

    return RETRY_SECONDS + 0.1


async def test_an_index_of_an_old_schema_version_is_rebuilt(client, settings):
    await fresh_index(settings)
    alice, token = await member(settings, "alice")
    await make_post(alice, "survives the upgrade")
    generation = store.location(settings.storage.data_dir).generation()
    (generation / store.VERSION_FILE).write_text("0\n")

    await search_worker.index_search({"settings": settings})

    assert store.location(settings.storage.data_dir).generation() != generation
    assert await found_texts(client, token, "upgrade") == ["survives the upgrade"]


async def test_a_crash_after_writing_but_before_forgetting_replays_without_duplicates(
    client, settings, monkeypatch
):
    await fresh_index(settings)
    alice, token = await member(settings, "alice")
    await make_post(alice, "written twice")

    async def crash(_ids):
        raise RuntimeError("the worker died here")

    with monkeypatch.context() as patched:
        patched.setattr(search_index, "_forget", crash)
        with pytest.raises(RuntimeError):
            await indexed(settings)
    assert await SearchChange.all().count() > 0  # the changes are still waiting
    await indexed(settings)

    assert await found_texts(client, token, "written") == ["written twice"]
    assert await SearchChange.all().count() == 0


async def test_a_killed_indexer_loses_nothing_and_its_lock_goes_with_it(client, settings):
    await fresh_index(settings)
    token = await many_posts(settings, 600)
    waiting = await SearchChange.all().count()

    child = indexer_process(settings, "slow")  # batches of 20: many commits
    deadline = time.monotonic() + 60
    while await SearchChange.all().count() > waiting - 60:  # a few batches are in
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=10)
    assert 0 < await SearchChange.all().count() < waiting  # killed half-way

    await indexed(settings)  # the lock died with the child: no wait, no error

    assert await SearchChange.all().count() == 0
    everything = await search(client, token, "bulk", type="statuses", limit=40, offset=560)
    assert len(everything["statuses"]) == 40  # all 600 there, each once


async def test_two_indexer_processes_racing_never_corrupt_the_index(client, settings):
    await fresh_index(settings)
    token = await many_posts(settings, 400)

    racers = [indexer_process(settings, "job") for _ in range(2)]
    outcomes = [racer.communicate(timeout=120) for racer in racers]

    assert [racer.returncode for racer in racers] == [0, 0], outcomes
    assert sum(int(out.strip()) for out, _ in outcomes) >= 400
    assert await SearchChange.all().count() == 0
    last_page = await search(client, token, "bulk", type="statuses", limit=40, offset=360)
    assert len(last_page["statuses"]) == 40
    beyond = await search(client, token, "bulk", type="statuses", limit=40, offset=400)
    assert beyond["statuses"] == []


# Whoosh leaves the damaged TOC file it failed to read for the garbage collector to close.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_damaged_index_is_a_503_and_rebuilding_mends_it(client, settings):
    await fresh_index(settings)
    alice, token = await member(settings, "alice")
    await make_post(alice, "damaged goods")
    await indexed(settings)
    generation = store.location(settings.storage.data_dir).generation()
    for path in generation.iterdir():
        if path.name != store.VERSION_FILE:
            path.write_bytes(b"\x00garbage\xff" * 10)

    response = await client.get("/api/v2/search?q=damaged&type=statuses", headers=bearer(token))
    assert response.status_code == 503
    assert (await client.get("/api/v1/timelines/home", headers=bearer(token))).status_code == 200

    await search_worker.index_search({"settings": settings})  # finds it unusable: rebuilds
    await asyncio.sleep(search_worker_retry())
    assert await found_texts(client, token, "damaged") == ["damaged goods"]


async def test_searches_keep_answering_while_the_index_is_rebuilt(client, settings):
    await fresh_index(settings)
    token = await many_posts(settings, 3000)
    await indexed(settings)

    rebuilding = asyncio.create_task(search_index.rebuild(settings))
    answered = []
    while not rebuilding.done():
        answered.append(await bulk_count(client, token))
    await rebuilding

    assert answered
    assert set(answered) == {40}
    assert await bulk_count(client, token) == 40


async def test_posting_while_searching_and_indexing(client, settings):
    await fresh_index(settings)
    _, token = await member(settings, "alice")

    async def post(n: int) -> int:
        body = {"status": f"concurrent note {n}"}
        response = await client.post("/api/v1/statuses", json=body, headers=bearer(token))
        return response.status_code

    async def look() -> int:
        response = await client.get(
            "/api/v2/search?q=concurrent&type=statuses", headers=bearer(token)
        )
        return response.status_code

    async def index_meanwhile() -> None:
        for _ in range(5):
            await indexed(settings)
            await asyncio.sleep(0.01)

    statuses = await asyncio.gather(
        *(post(n) for n in range(20)), *(look() for _ in range(20)), index_meanwhile()
    )
    await indexed(settings)

    assert set(statuses[:-1]) == {200}
    found = await search(client, token, "concurrent", type="statuses", limit=40)
    assert len(found["statuses"]) == 20
