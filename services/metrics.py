"""Every Prometheus metric the instance exports, defined in one place.

Web processes and workers each write theirs; ``/metrics`` (web/metrics) serves them all. With
``PROMETHEUS_MULTIPROC_DIR`` set (``starling run``/``web``/``worker`` set it, see
instance/metrics_dir) prometheus-client keeps each process's values in a memory-mapped file
there, and a scrape adds up every process's files: counters and histograms survive a process
that ended, live gauges (memory, pool) only while it runs. Without it (tests, one process) the
values live in this process's default registry.

Queue depths are not kept here: a scrape reads them from Redis (:func:`queue_depths`).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from prometheus_client import Counter, Gauge, Histogram, values
from redis.asyncio import Redis
from tortoise import connections
from tortoise.exceptions import ConfigurationError

# prometheus-client's own variable: it decides the mode when it is imported.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_HOST = socket.gethostname().replace("_", "-") or "host"


def process_identifier() -> str:
    """Names this process's files: host and pid, so processes of several containers sharing
    the directory never write one file (prometheus-client's default is the pid alone)."""
    return f"{_HOST}-{os.getpid()}"


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


if multiprocess():
    values.ValueClass = values.MultiProcessValue(process_identifier)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)

HTTP_REQUESTS = Histogram(
    "starling_http_request_duration_seconds",
    "Time spent in the app per request (its _count is the request count), by route template.",
    ("method", "route", "status"),
    buckets=LATENCY_BUCKETS,
)
JOB_WAIT = Histogram(
    "starling_job_queue_wait_seconds",
    "From when an arq job was due to when a worker started it.",
    ("queue", "function"),
    buckets=JOB_BUCKETS,
)
JOB_DURATION = Histogram(
    "starling_job_duration_seconds",
    "How long an arq job ran, by result (ok, retry, error).",
    ("queue", "function", "result"),
    buckets=LATENCY_BUCKETS,
)
DELIVERIES = Counter(
    "starling_deliveries",
    "Delivery attempts to peers' inboxes by outcome.",
    ("outcome",),
)
INBOX_RECEIVED = Counter(
    "starling_inbox_received",
    "Activities POSTed to our inboxes: accepted, duplicate or rejected.",
    ("outcome",),
)
INBOX_PROCESSED = Counter(
    "starling_inbox_processed",
    "Stored activities applied by a worker, by outcome.",
    ("outcome",),
)
FANOUT = Histogram(
    "starling_fanout_duration_seconds",
    "Pushing one post into its home timelines.",
    buckets=LATENCY_BUCKETS,
)
FANOUT_TIMELINES = Counter("starling_fanout_timelines", "Home timelines posts were pushed into.")
DB_READS = Counter(
    "starling_db_reads",
    "Read-only queries of requests by who answered: replica, primary, or fallback (the primary,"
    " after a replica failed).",
    ("target",),
)
SEARCH = Histogram(
    "starling_search_duration_seconds",
    "A search query, ranking and hydration included, by what was searched.",
    ("kind",),
    buckets=LATENCY_BUCKETS,
)
DB_POOL = Gauge(
    "starling_db_pool_connections",
    "PostgreSQL connections of the processes' pools: open (size), idle and max.",
    ("role", "state"),
    multiprocess_mode="livesum",
)
MEMORY = Gauge(
    "starling_process_resident_memory_bytes",
    "Resident memory of each Starling process.",
    ("role",),
    multiprocess_mode="liveall",
)
UP_SINCE = Gauge(
    "starling_process_start_time_seconds",
    "When each Starling process started (Unix time).",
    ("role",),
    multiprocess_mode="liveall",
)

P = ParamSpec("P")
R = TypeVar("R")


def timed(histogram: Histogram) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Observe how long each call of an async function takes (errors included)."""

    def decorate(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(function)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                histogram.observe(time.perf_counter() - started)

        return wrapper

    return decorate


# --- process gauges ---------------------------------------------------------------------

SAMPLE_SECONDS = 10.0
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):  # not Linux: no figure rather than a wrong one
        return 0


def _pool() -> Any:
    # Tortoise keeps asyncpg's pool private; without an ORM (yet) there is nothing to read.
    with contextlib.suppress(RuntimeError, KeyError, ConfigurationError):
        return getattr(connections.get("default"), "_pool", None)
    return None


def sample_process(role: str) -> None:
    """Record this process's memory and connection pool now."""
    MEMORY.labels(role).set(_resident_bytes())
    pool = _pool()
    if pool is not None:
        DB_POOL.labels(role, "open").set(pool.get_size())
        DB_POOL.labels(role, "idle").set(pool.get_idle_size())
        DB_POOL.labels(role, "max").set(pool.get_max_size())


def _touch_live_files() -> None:
    """Mark this process's live-gauge files as current: a process that vanished without
    anyone reaping its files (a container gone) is left out of scrapes (:func:`live_files`)."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return
    for mode in ("liveall", "livesum"):
        with contextlib.suppress(FileNotFoundError):
            os.utime(os.path.join(directory, f"gauge_{mode}_{process_identifier()}.db"))


async def sample_forever(role: str) -> None:
    """Keep this process's gauges fresh (a scrape reads every process's last sample)."""
    UP_SINCE.labels(role).set(time.time())
    while True:
        sample_process(role)
        _touch_live_files()
        await asyncio.sleep(SAMPLE_SECONDS)


STALE_SECONDS = SAMPLE_SECONDS * 6


def live_files(directory: str) -> list[str]:
    """The value files a scrape adds up: all counters and histograms (an ended process's
    counts still count), live gauges only of processes that sampled lately."""
    oldest = time.time() - STALE_SECONDS
    files = []
    for path in glob.glob(os.path.join(directory, "*.db")):
        if os.path.basename(path).startswith("gauge_live"):
            with contextlib.suppress(FileNotFoundError):
                if os.stat(path).st_mtime >= oldest:
                    files.append(path)
        else:
            files.append(path)
    return files


# --- read at scrape time ----------------------------------------------------------------


# arq's default queue (federation, fan-out, housekeeping) and the search indexer's own
# (workers/search.QUEUE; a test keeps the two names equal).
QUEUES = ("arq:queue", "arq:search")


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    due: int
    deferred: int
    oldest_due_seconds: float  # how long the oldest due job has waited; 0 when none


async def queue_depths(redis: Redis, queues: tuple[str, ...]) -> list[QueueDepth]:
    """Jobs waiting in each arq queue (a sorted set scored by when each job is due)."""
    now_ms = time.time() * 1000
    async with redis.pipeline(transaction=False) as pipe:
        for queue in queues:
            pipe.zcount(queue, "-inf", now_ms)
            pipe.zcard(queue)
            pipe.zrangebyscore(queue, "-inf", now_ms, start=0, num=1, withscores=True)
        replies = await pipe.execute()
    depths = []
    for index, queue in enumerate(queues):
        due, total, oldest = replies[index * 3 : index * 3 + 3]
        waited = max(0.0, (now_ms - oldest[0][1]) / 1000) if oldest else 0.0
        depths.append(QueueDepth(queue, due, total - due, waited))
    return depths


_BACKLOG_SQL = """
SELECT (SELECT count(*) FROM deliveries WHERE state = 'pending') AS deliveries,
       (SELECT count(*) FROM inbox_items WHERE state = 'pending') AS inbox_items
"""


async def backlog() -> dict[str, int]:
    """Rows still to be worked on: the truth behind the queues (they survive a Redis loss)."""
    rows = await connections.get("default").execute_query_dict(_BACKLOG_SQL)
    return {name: int(count) for name, count in rows[0].items()}
