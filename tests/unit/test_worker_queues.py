"""``starling worker --queue``: one process for the jobs, the search indexer, or both.

The tests are async: an arq Worker built outside a running loop makes an event loop of its
own and never closes it."""

from __future__ import annotations

import pytest
from arq.constants import default_queue_name

from instance.config import load_settings
from workers import search
from workers.settings import MAX_JOBS, build_workers


@pytest.mark.parametrize(
    ("queue", "expected"),
    [
        ("all", [default_queue_name, search.QUEUE]),
        ("jobs", [default_queue_name]),
        ("search", [search.QUEUE]),
    ],
)
async def test_a_worker_process_takes_the_queues_asked_for(queue: str, expected: list[str]):
    settings = load_settings(env={"STARLING_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert [worker.queue_name for worker in build_workers(settings, queue)] == expected


async def test_every_job_is_measured_under_its_arq_name():
    settings = load_settings(env={"STARLING_REDIS_URL": "redis://127.0.0.1:6379/0"})
    jobs_worker = build_workers(settings, "jobs")[0]
    assert {"deliver", "process_inbox", "fanout", "cron:sweep_federation"} <= set(
        jobs_worker.functions
    )
    assert jobs_worker.functions["deliver"].coroutine.__wrapped__.__name__ == "deliver"


async def test_concurrency_sets_how_many_jobs_one_worker_runs_at_once():
    settings = load_settings(env={"STARLING_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert build_workers(settings, "jobs")[0].max_jobs == MAX_JOBS
    jobs_worker, indexer = build_workers(settings, "all", concurrency=32)
    assert jobs_worker.max_jobs == 32
    assert indexer.max_jobs == 1  # the index has one writer, whatever the concurrency
