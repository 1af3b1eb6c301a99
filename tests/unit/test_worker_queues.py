"""``starling worker --queue``: one process for the jobs, the search indexer, or both."""

from __future__ import annotations

import pytest
from arq.constants import default_queue_name

from instance.config import load_settings
from workers import search
from workers.settings import _workers


@pytest.mark.parametrize(
    ("queue", "expected"),
    [
        ("all", [default_queue_name, search.QUEUE]),
        ("jobs", [default_queue_name]),
        ("search", [search.QUEUE]),
    ],
)
def test_a_worker_process_takes_the_queues_asked_for(queue: str, expected: list[str]):
    settings = load_settings(env={"STARLING_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert [worker.queue_name for worker in _workers(settings, queue)] == expected


def test_every_job_is_measured_under_its_arq_name():
    settings = load_settings(env={"STARLING_REDIS_URL": "redis://127.0.0.1:6379/0"})
    jobs_worker = _workers(settings, "jobs")[0]
    assert {"deliver", "process_inbox", "fanout", "cron:sweep_federation"} <= set(
        jobs_worker.functions
    )
    assert jobs_worker.functions["deliver"].coroutine.__wrapped__.__name__ == "deliver"
