"""The arq worker: its tasks, periodic jobs, and the connections each process opens once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from arq import cron
from arq.constants import default_queue_name
from arq.worker import Worker, func

from instance import lifecycle
from instance.backing import arq_redis_settings
from instance.config import Settings, get_settings
from instance.logs import configure_logging
from services import metrics
from workers import federation, housekeeping, instrument, search, timelines

log = logging.getLogger(__name__)

# Deliveries spend most of their time waiting on peers: many run at once in one process.
MAX_JOBS = 128
# arq reads the queue, then sleeps this long: at most MAX_JOBS new jobs start per poll, so the
# default half second would cap a worker near 250 jobs/s and delay every fan-out and delivery.
POLL_DELAY_SECONDS = 0.05
# Federation jobs keep no result: their rows hold the outcome, and a kept result would stop
# the sweep from enqueueing the same attempt again (arq refuses a job id it still knows).
TASKS: list[Any] = [
    housekeeping.purge_expired_grants,
    housekeeping.purge_finished_federation_rows,
    timelines.fanout,
    func(federation.deliver, keep_result=0, timeout=60),
    func(federation.process_inbox, keep_result=0, timeout=120),
    func(federation.sweep_federation, keep_result=0, timeout=120),
    func(federation.refresh_actor, keep_result=0, timeout=60),
]


def cron_jobs(settings: Settings) -> list[Any]:
    every = settings.federation.sweep_seconds
    return [
        cron(housekeeping.purge_expired_grants, minute=17, run_at_startup=False),
        cron(housekeeping.purge_finished_federation_rows, minute=43, run_at_startup=False),
        cron(federation.sweep_federation, second=set(range(0, 60, every)), run_at_startup=True),
    ]


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.get("settings") or get_settings()
    # In-process test workers share the test's ORM connections (init_orm=False).
    ctx["backends"] = await lifecycle.open_backends(settings, init_orm=ctx.get("init_orm", True))


async def shutdown(ctx: dict[str, Any]) -> None:
    # arq runs this on close even when start-up failed or was interrupted (a SIGINT while the
    # backends were opening): then there is nothing to close.
    backends = ctx.pop("backends", None)
    if backends is not None:
        await lifecycle.close_backends(backends, close_orm=ctx.get("init_orm", True))


def build_worker(settings: Settings, **overrides: Any) -> Worker:
    """A worker for ``settings``; tests pass ``burst=True`` and no cron jobs."""
    options: dict[str, Any] = {
        "functions": instrument.functions(default_queue_name, TASKS),
        "cron_jobs": instrument.cron_jobs(default_queue_name, cron_jobs(settings)),
        "max_jobs": MAX_JOBS,
        "poll_delay": POLL_DELAY_SECONDS,
        "redis_settings": arq_redis_settings(settings.redis.url),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "ctx": {"settings": settings},
        "handle_signals": True,
    }
    options.update(overrides)
    return Worker(**options)


def build_search_worker(settings: Settings, **overrides: Any) -> Worker:
    """The indexer: one job at a time on its own queue (the index has one writer)."""
    index = func(search.index_search, keep_result=0, timeout=search.JOB_TIMEOUT_SECONDS)
    every = search.SWEEP_EVERY_SECONDS
    sweep = [
        cron(
            search.index_search,
            second=set(range(0, 60, every)),
            run_at_startup=True,
            keep_result=0,
            timeout=search.JOB_TIMEOUT_SECONDS,
        )
    ]
    options: dict[str, Any] = {
        "functions": instrument.functions(search.QUEUE, [index]),
        "queue_name": search.QUEUE,
        "cron_jobs": instrument.cron_jobs(search.QUEUE, sweep),
        "max_jobs": 1,
        "poll_delay": POLL_DELAY_SECONDS,
        "redis_settings": arq_redis_settings(settings.redis.url),
        "on_startup": search.startup,
        "on_shutdown": search.shutdown,
        "ctx": {"settings": settings},
        "handle_signals": False,
    }
    options.update(overrides)
    return Worker(**options)


def run_worker(settings: Settings, queue: str = "all", concurrency: int | None = None) -> None:
    configure_logging(settings)
    log.info("worker starting", extra={"queues": queue, "concurrency": concurrency or MAX_JOBS})
    asyncio.run(_run_workers(settings, queue, concurrency))


def build_workers(
    settings: Settings, queue: str = "all", concurrency: int | None = None
) -> list[Worker]:
    """The job worker (up to ``concurrency`` jobs at once) and/or the search indexer, for one
    process whose ORM connections are already open (they share them)."""
    workers = []
    if queue in ("all", "jobs"):
        jobs_worker = build_worker(settings, handle_signals=False, max_jobs=concurrency or MAX_JOBS)
        jobs_worker.ctx["init_orm"] = False  # this process's ORM connections are shared
        workers.append(jobs_worker)
    if queue in ("all", "search"):
        workers.append(build_search_worker(settings))
    return workers


async def run_until_stopped(workers: list[Worker], stop: asyncio.Event) -> None:
    """Run ``workers`` in this event loop until ``stop`` is set (or one of them stops: then
    what stopped it is raised), and close them all."""
    running = [asyncio.create_task(worker.async_run()) for worker in workers]
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([*running, stopping], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        for worker in workers:
            await worker.close()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task  # re-raises what stopped a worker, if anything did


async def _run_workers(
    settings: Settings, queue: str = "all", concurrency: int | None = None
) -> None:
    """The job worker and/or the search indexer in one process and event loop, sharing its
    ORM connections, until SIGINT or SIGTERM (or one of them stops)."""
    await lifecycle.open_orm(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    sampling = asyncio.create_task(metrics.sample_forever("worker"))
    try:
        await run_until_stopped(build_workers(settings, queue, concurrency), stop)
    finally:
        sampling.cancel()
        await lifecycle.close_orm()
