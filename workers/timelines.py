"""Fan-out: after a post is committed, push it into the home timelines it belongs in."""

from __future__ import annotations

import logging
import time
from typing import Any

from services import metrics, timelines
from services.backends import Backends
from services.postcache import load_posts

log = logging.getLogger(__name__)


async def fanout(ctx: dict[str, Any], post_id: int) -> int:
    backends: Backends = ctx["backends"]
    started = time.perf_counter()
    post = (await load_posts(backends.redis, [post_id])).get(post_id)
    if post is None:
        return 0  # deleted before we got to it: nothing to push
    pushed = await timelines.fan_out(backends.redis, backends.settings, post)
    metrics.FANOUT.observe(time.perf_counter() - started)
    metrics.FANOUT_TIMELINES.inc(pushed)
    log.info(
        "fanned out",
        extra={
            "post_id": post_id,
            "timelines": pushed,
            "ms": (time.perf_counter() - started) * 1e3,
        },
    )
    return pushed
