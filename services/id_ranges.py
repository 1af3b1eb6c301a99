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


def range_args(page: Page, count: int) -> tuple[bool, str | int, str | int, int]:
    """The page's window as a range read: ascending?, highest and lowest score (widened to
    whole milliseconds), and how many members (``SLACK`` more than ``count``)."""
    lower = page.lower
    low = id_millis(lower) if lower is not None else "(0"
    high = id_millis(page.max_id) if page.max_id is not None else "+inf"
    return page.ascending, "+inf" if page.ascending else high, low, count + SLACK


def queue_range(pipe: Pipeline, key: str, page: Page, count: int) -> None:
    """Queue the read of up to ``count`` members in the page's window (widened)."""
    ascending, high, low, num = range_args(page, count)
    if ascending:
        pipe.zrangebyscore(key, low, high, start=0, num=num)
    else:
        pipe.zrevrangebyscore(key, high, low, start=0, num=num)


# The same read in a Lua script: ``range(key, ascending, high, low, num)``, the arguments as
# ``range_args`` gives them ('1' for ascending).
LUA_RANGE = """
local function range(key, ascending, high, low, num)
  if ascending == '1' then
    return redis.call('ZRANGEBYSCORE', key, low, high, 'LIMIT', 0, num)
  end
  return redis.call('ZREVRANGEBYSCORE', key, high, low, 'LIMIT', 0, num)
end
"""


def cut(ids: list[int], page: Page, count: int) -> list[int]:
    """The ``count`` ids of a range read (any order; the sentinel 0 left out) in the window."""
    newest_first = sorted((i for i in ids if i), reverse=True)
    return select_page(newest_first, Page(page.max_id, page.since_id, page.min_id, count))
