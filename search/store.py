"""Where the index lives on disk, who may write it, and how a rebuilt index replaces the old.

Layout under ``<data_dir>/search/``::

    current -> gen-1733050000123     a symlink, replaced atomically by a rebuild
    gen-1733050000123/               Whoosh's files for both indexes, and schema-version
    writer.lock                      held (flock) by the one process writing

Only one process writes at a time: the indexer and a rebuild both take ``writer.lock`` first.
It is an flock, so a killed writer's lock goes with its process: nothing to clean up, no
dead-lock. Readers never lock; they follow ``current`` and notice when it points elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import FileIndex
from whoosh.util.filelock import FileLock

from search.schema import SCHEMA_VERSION, SCHEMAS

VERSION_FILE = "schema-version"
LOCK_POLL_SECONDS = 0.05


class IndexMissing(Exception):
    """No usable index: never built, removed, damaged, or of an older schema version."""


class IndexBusy(Exception):
    """Another process holds the writer lock for longer than we were willing to wait."""


@dataclass(frozen=True)
class IndexLocation:
    root: Path  # <data_dir>/search

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def lock_file(self) -> Path:
        return self.root / "writer.lock"

    def generation(self) -> Path | None:
        """The directory ``current`` points at, or None when there is none."""
        try:
            return self.current.resolve(strict=True)
        except (FileNotFoundError, RuntimeError):
            return None


def location(data_dir: Path) -> IndexLocation:
    return IndexLocation(Path(data_dir) / "search")


def schema_version(generation: Path) -> int | None:
    try:
        return int((generation / VERSION_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def open_indexes(place: IndexLocation) -> tuple[Path, dict[str, FileIndex]]:
    """The current generation and its indexes; IndexMissing when it must be (re)built."""
    generation = place.generation()
    if generation is None:
        raise IndexMissing(f"no search index at {place.current}")
    found = schema_version(generation)
    if found != SCHEMA_VERSION:
        raise IndexMissing(f"search index at {generation} is version {found}, not {SCHEMA_VERSION}")
    try:
        indexes = {name: whoosh_index.open_dir(str(generation), indexname=name) for name in SCHEMAS}
    except Exception as exc:  # damaged: Whoosh says so in many ways (OSError, struct.error, ...)
        raise IndexMissing(f"search index at {generation} cannot be opened: {exc}") from exc
    return generation, indexes


def problem(place: IndexLocation) -> str | None:
    """Why the index cannot be used (so must be rebuilt), or None when it can."""
    try:
        open_indexes(place)
    except IndexMissing as exc:
        return str(exc)
    return None


def new_generation(place: IndexLocation) -> tuple[Path, dict[str, FileIndex]]:
    """Empty indexes of the current schema in a fresh directory (not yet current)."""
    place.root.mkdir(parents=True, exist_ok=True)
    generation = place.root / f"gen-{time.time_ns() // 1_000_000}-{os.getpid()}"
    generation.mkdir()
    indexes = {
        name: whoosh_index.create_in(str(generation), schema(), indexname=name)
        for name, schema in SCHEMAS.items()
    }
    (generation / VERSION_FILE).write_text(f"{SCHEMA_VERSION}\n")
    return generation, indexes


def make_current(place: IndexLocation, generation: Path) -> None:
    """Point ``current`` at ``generation`` in one atomic step, then drop older generations
    (readers that still have their files open keep reading them until they reopen)."""
    link = place.root / f".current-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    link.symlink_to(generation.name)
    link.replace(place.current)
    for old in place.root.glob("gen-*"):
        if old.name != generation.name:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def writer_lock(place: IndexLocation, timeout: float) -> Iterator[None]:
    """Hold the one writer lock, waiting up to ``timeout`` seconds (blocking: run in a thread)."""
    place.root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(place.lock_file))
    deadline = time.monotonic() + timeout
    while not lock.acquire(blocking=False):
        if time.monotonic() >= deadline:
            raise IndexBusy(f"another process is writing the search index ({place.lock_file})")
        time.sleep(LOCK_POLL_SECONDS)
    try:
        yield
    finally:
        lock.release()
