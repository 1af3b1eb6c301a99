"""What every log line emitted while handling one thing carries: the web request's id, the arq
job's id, the activity being received, applied or delivered.

Context variables, so concurrent requests and jobs each see their own; ``instance/logs`` adds
them to each record. Set by web/ (request id) and workers/ (job id) and by services where the
activity is known.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
job_id: ContextVar[str | None] = ContextVar("job_id", default=None)
activity_id: ContextVar[str | None] = ContextVar("activity_id", default=None)

FIELDS = (("request_id", request_id), ("job_id", job_id), ("activity_id", activity_id))


def current() -> dict[str, str]:
    """The ids set in this context (none of them, outside a request or job)."""
    return {name: value for name, var in FIELDS if (value := var.get()) is not None}
