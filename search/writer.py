"""Writing the index: a batch of changes into the current indexes, or a whole new generation.

Everything here blocks (Whoosh is synchronous and writes files): callers run it in a thread.
Each function takes the writer lock itself, so no two writers ever meet.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from whoosh.index import FileIndex
from whoosh.writing import SegmentWriter

from search import store
from search.schema import ACCOUNTS, POSTS, AccountDoc, Changes, PostDoc

LOCK_TIMEOUT_SECONDS = 5.0
WRITER_MEMORY_MB = 128
# A rebuild holds more in memory: fewer segments written, so less to merge at the end.
REBUILD_MEMORY_MB = 512


def apply(place: store.IndexLocation, changes: Changes) -> None:
    """Write one batch into the current indexes (IndexMissing: rebuild first)."""
    with store.writer_lock(place, LOCK_TIMEOUT_SECONDS):
        _, indexes = store.open_indexes(place)
        _write(indexes[POSTS], changes.posts, changes.removed_posts)
        _write(indexes[ACCOUNTS], changes.accounts, changes.removed_accounts)


def _write(ix: FileIndex, docs: list[PostDoc] | list[AccountDoc], removed: list[int]) -> None:
    if not docs and not removed:
        return
    writer = ix.writer(limitmb=WRITER_MEMORY_MB)
    try:
        for item in removed:
            writer.delete_by_term("id", str(item))
        for doc in docs:
            writer.update_document(**doc.fields())
    except BaseException:
        writer.cancel()
        raise
    writer.commit()


class Rebuild:
    """A new generation filled in batches, made current at the end; the writer lock is held
    throughout, so changes made meanwhile wait in their rows and are applied to the new
    generation afterwards (applying one twice is harmless)."""

    def __init__(self, place: store.IndexLocation, *, only_if_missing: bool = False) -> None:
        self.place = place
        self.only_if_missing = only_if_missing
        self.skipped = False  # only_if_missing, and a usable index was there after all
        self._lock = store.writer_lock(place, LOCK_TIMEOUT_SECONDS)
        self._generation: Path | None = None
        self._writers: dict[str, SegmentWriter] = {}

    def __enter__(self) -> Rebuild:
        self._lock.__enter__()
        try:
            if self.only_if_missing and store.problem(self.place) is None:
                self.skipped = True
                self._lock.__exit__(None, None, None)
                return self
            self._generation, indexes = store.new_generation(self.place)
            self._writers = {
                name: ix.writer(limitmb=REBUILD_MEMORY_MB) for name, ix in indexes.items()
            }
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def add_posts(self, docs: Iterable[PostDoc]) -> None:
        for doc in docs:
            self._writers[POSTS].add_document(**doc.fields())

    def add_accounts(self, docs: Iterable[AccountDoc]) -> None:
        for doc in docs:
            self._writers[ACCOUNTS].add_document(**doc.fields())

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self.skipped:
            return
        try:
            if exc_type is None and self._generation is not None:
                for writer in self._writers.values():
                    writer.commit(optimize=True)
                store.make_current(self.place, self._generation)
            else:
                for writer in self._writers.values():
                    writer.cancel()
                if self._generation is not None:
                    shutil.rmtree(self._generation, ignore_errors=True)
        finally:
            self._lock.__exit__(None, None, None)
