"""The search indexer: its own arq queue, woken by Postgres NOTIFY, swept every few seconds.

A trigger NOTIFYs ``search_changes`` when a change commits; the listener here enqueues one
``index_search`` job per quarter second at most (the job id names the quarter, so a burst of
commits becomes one job), and the job applies every waiting change in batches. The queue's
worker runs one job at a time, and the index's writer lock keeps two worker processes from
ever writing at once. A cron job replays whatever a lost notification left waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from instance.config import Settings
from services import jobs, pg_listen, search_index

log = logging.getLogger(__name__)

QUEUE = "arq:search"
CHANNEL = "search_changes"
SWEEP_EVERY_SECONDS = 2
COALESCE_PER_SECOND = 4
JOB_TIMEOUT_SECONDS = 3600  # a rebuild of a big index runs inside the job


async def index_search(ctx: dict[str, Any]) -> int:
    """Apply waiting changes; build the index first when there is none, or it is of an old
    schema or damaged (checked every run: a few file reads)."""
    settings: Settings = ctx["settings"]
    try:
        if problem := await asyncio.to_thread(search_index.index_problem, settings):
            await _rebuild(settings, problem)
        try:
            return await search_index.index_pending(settings)
        except search_index.IndexMissing as missing:  # removed since: once more
            await _rebuild(settings, str(missing))
            return await search_index.index_pending(settings)
    except search_index.IndexBusy:
        return 0  # another process is writing: it applies these too, or the sweep does


async def _rebuild(settings: Settings, why: str) -> None:
    log.warning("building the search index: %s", why)
    count = await search_index.rebuild(settings, only_if_missing=True)
    log.warning("search index built", extra={"documents": count})


def job_now() -> jobs.Job:
    bucket = int(time.time() * COALESCE_PER_SECOND)
    return jobs.Job("index_search", job_id=f"search:{bucket}", queue=QUEUE)


class ChangeListener:
    """Each notification (or a reconnection, after which some may have been missed) wakes a
    loop that enqueues the indexing job; a burst of wake-ups becomes one enqueue."""

    def __init__(self, settings: Settings, queue: Any) -> None:
        self.queue = queue
        self._wake = asyncio.Event()
        self._listener = pg_listen.Listener(
            settings.database.url, CHANNEL, self._notified, self._reconnected
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._listener.start()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        await self._listener.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._enqueue()

    def _notified(self, _payload: str) -> None:
        self._wake.set()

    async def _reconnected(self) -> None:
        self._wake.set()  # whatever changed while we were not listening

    async def _enqueue(self) -> None:
        try:
            await jobs.enqueue(self.queue, job_now())
        except OSError as exc:  # Redis away: the sweep catches up when it is back
            log.warning("search listener cannot enqueue: %s", exc)


async def startup(ctx: dict[str, Any]) -> None:
    listener = ChangeListener(ctx["settings"], ctx["redis"])
    listener.start()
    ctx["listener"] = listener


async def shutdown(ctx: dict[str, Any]) -> None:
    listener = ctx.pop("listener", None)  # none when start-up never got that far
    if listener is not None:
        await listener.stop()
