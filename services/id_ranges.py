"""Sorted sets of post ids scored by their milliseconds (home timelines, big authors' posts):
a page's window as one range read, cut exactly on the ids afterwards.

Scores are doubles and cannot hold a 64-bit id, so a window is widened to whole milliseconds
for Redis and a few more members are read (``SLACK``: ids of the same millisecond past a bound).
"""

from __future__ import annotations

from redis.asyncio.client import Pipeline

from models.ids import id_millis
from services.paging import Page, select_page

SLACK = 10


def queue_range(pipe: Pipeline, key: str, page: Page, count: int) -> None:
    """Queue the read of up to ``count`` members in the page's window (widened)."""
    lower = page.lower
    low = id_millis(lower) if lower is not None else "(0"
    if page.ascending:
        pipe.zrangebyscore(key, low, "+inf", start=0, num=count + SLACK)
    else:
        high = id_millis(page.max_id) if page.max_id is not None else "+inf"
        pipe.zrevrangebyscore(key, high, low, start=0, num=count + SLACK)


def cut(ids: list[int], page: Page, count: int) -> list[int]:
    """The ``count`` ids of a range read (any order; the sentinel 0 left out) in the window."""
    newest_first = sorted((i for i in ids if i), reverse=True)
    return select_page(newest_first, Page(page.max_id, page.since_id, page.min_id, count))
