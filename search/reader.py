"""Reading the index from a web process: never writes, never blocks the event loop.

Queries run on one thread of their own (Whoosh is synchronous; one searcher serves them in
turn). Before each query the searcher is reopened if the indexer committed since, or if a
rebuild made another generation current: a few stat calls when nothing changed. A missing
or unreadable index makes queries raise ``SearchUnavailable`` (the API answers 503) and is
retried a few seconds later, so the process keeps serving everything else and recovers by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from whoosh import query as q
from whoosh import sorting
from whoosh.index import FileIndex
from whoosh.reading import EmptyReader
from whoosh.searching import Searcher

from search import store
from search.schema import ACCOUNTS, POSTS

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0


class SearchUnavailable(Exception):
    """The index cannot be read right now."""


@dataclass(frozen=True)
class Hits:
    ids: list[int]  # best first
    total: int  # how many documents matched in all (before the caller's filtering)


# Relevance first; among equal scores the newer document (a larger snowflake id).
_RANKING = sorting.MultiFacet([sorting.ScoreFacet(), sorting.FieldFacet("order", reverse=True)])


class SearchReader:
    def __init__(self, place: store.IndexLocation) -> None:
        self.place = place
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search")
        self._generation: Path | None = None
        self._indexes: dict[str, FileIndex] = {}
        self._searchers: dict[str, Searcher] = {}
        self._failed_at: float | None = None
        self._used_at = 0.0  # monotonic time of the last query

    async def posts(self, query: q.Query, limit: int) -> Hits:
        return await self._run(POSTS, query, limit)

    async def accounts(self, query: q.Query, limit: int) -> Hits:
        return await self._run(ACCOUNTS, query, limit)

    async def _run(self, name: str, query: q.Query, limit: int) -> Hits:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._search, name, query, limit)

    async def release_if_idle(self, idle_seconds: float) -> bool:
        """Close the searchers when no query came for ``idle_seconds`` (the next query opens
        them again, a few milliseconds): their caches and mapped files are most of a small
        process's search memory. Answers whether they were closed."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._release_if_idle, idle_seconds)

    def close(self) -> None:
        self._thread.submit(self._close_searchers).result()
        self._thread.shutdown(wait=True)

    # --- on the search thread ------------------------------------------------------------

    def _search(self, name: str, query: q.Query, limit: int) -> Hits:
        """The best ``limit`` matches. Narrowing belongs in the query (``q.Require``), never
        in Whoosh's ``filter=``, which first lists every document the filter matches."""
        self._used_at = time.monotonic()
        searcher = self._searcher(name)
        try:
            results = searcher.search(query, limit=limit, sortedby=_RANKING)
            return Hits(ids=[int(hit["id"]) for hit in results], total=len(results))
        except Exception as exc:  # a damaged file surfaces as any error while reading
            # Reopened for the next query; no back-off, so one odd query cannot stop others.
            self._unavailable(exc, back_off=False)
            raise SearchUnavailable("the search index is not readable") from exc

    def _searcher(self, name: str) -> Searcher:
        now = time.monotonic()
        if self._failed_at is not None and now - self._failed_at < RETRY_SECONDS:
            raise SearchUnavailable("the search index is not available")
        try:
            self._refresh(name)
        except Exception as exc:  # missing, of an old version, or damaged: Whoosh says so
            self._unavailable(exc)  # in many ways (OSError, struct.error, EOFError, ...)
            raise SearchUnavailable("the search index is not available") from exc
        self._failed_at = None
        return self._searchers[name]

    def _refresh(self, name: str) -> None:
        """Reopen what changed: everything after a rebuild, else the one index searched (a
        few stat calls when nothing did)."""
        generation = self.place.generation()
        if generation is None or generation != self._generation or not self._searchers:
            _, indexes = store.open_indexes(self.place)
            self._open(generation, indexes)
        elif not (searcher := self._searchers[name]).up_to_date():
            if isinstance(searcher.reader(), EmptyReader):
                # Whoosh cannot refresh a searcher of an index that had no segments (it
                # iterates the empty reader's None segments): open a new one instead.
                self._searchers[name] = self._indexes[name].searcher()
                searcher.close()
            else:
                self._searchers[name] = searcher.refresh()

    def _unavailable(self, exc: Exception, *, back_off: bool = True) -> None:
        if back_off:
            self._failed_at = time.monotonic()
        self._close_searchers()
        log.error("search index at %s unavailable: %s", self.place.root, exc)

    def _open(self, generation: Path | None, indexes: dict[str, FileIndex]) -> None:
        fresh = {name: ix.searcher() for name, ix in indexes.items()}
        self._close_searchers()
        self._generation, self._indexes, self._searchers = generation, indexes, fresh

    def _release_if_idle(self, idle_seconds: float) -> bool:
        if not self._searchers or time.monotonic() - self._used_at < idle_seconds:
            return False
        self._close_searchers()
        self._generation, self._indexes = None, {}  # reopened, as at start, by the next query
        return True

    def _close_searchers(self) -> None:
        for searcher in self._searchers.values():
            with contextlib.suppress(Exception):  # a damaged index may fail to close, too
                searcher.close()
        self._searchers = {}
