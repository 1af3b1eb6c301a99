"""Run queued arq jobs in-process, deterministically, until the queue is empty."""

from __future__ import annotations

from instance.config import Settings
from workers.settings import build_worker


async def drain(settings: Settings) -> int:
    """Process every queued job with a burst worker (no cron jobs: a burst worker never ends
    with them). Returns how many jobs completed."""
    worker = build_worker(settings, burst=True, poll_delay=0, cron_jobs=None, handle_signals=False)
    worker.ctx["init_orm"] = False
    try:
        await worker.main()
    finally:
        await worker.close()
    return worker.jobs_complete
