"""Every arq job, measured and named in the logs: how long it waited past when it was due, how
long it ran and how it ended (services/metrics), and its job id on every log line it emits
(services/logcontext)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from functools import wraps
from typing import Any

from arq import Retry
from arq.cron import CronJob
from arq.worker import Function, func

from services import logcontext, metrics

Job = Callable[..., Awaitable[Any]]


def _result(exc: BaseException | None) -> str:
    if exc is None:
        return "ok"
    if isinstance(exc, Retry):
        return "retry"
    if isinstance(exc, asyncio.CancelledError | TimeoutError):
        return "cancelled"
    return "error"


def _wrap(queue: str, name: str, coroutine: Job) -> Job:
    wait = metrics.JOB_WAIT.labels(queue, name)

    @wraps(coroutine)
    async def measured(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        logcontext.job_id.set(ctx.get("job_id"))  # this job's own task: no reset needed
        started = time.time()
        due_ms = ctx.get("score")
        if isinstance(due_ms, int | float):
            wait.observe(max(0.0, started - due_ms / 1000))
        failure: BaseException | None = None
        try:
            return await coroutine(ctx, *args, **kwargs)
        except BaseException as exc:  # measured, then re-raised for arq to handle
            failure = exc
            raise
        finally:
            result = _result(failure)  # labelled when it happens: no series of zeros
            metrics.JOB_DURATION.labels(queue, name, result).observe(time.time() - started)

    return measured


def functions(queue: str, jobs: Sequence[Any]) -> list[Function]:
    """arq functions (coroutines or ``func(...)``), each measured under its arq name."""
    wrapped = []
    for job in jobs:
        function = func(job)
        wrapped.append(replace(function, coroutine=_wrap(queue, function.name, function.coroutine)))
    return wrapped


def cron_jobs(queue: str, jobs: Sequence[CronJob]) -> list[CronJob]:
    return [replace(job, coroutine=_wrap(queue, job.name, job.coroutine)) for job in jobs]
