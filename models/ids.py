"""Snowflake ids: 64-bit, time-sortable (milliseconds since the Unix epoch << 16 | sequence).

Sorting by id is sorting by creation time, so timelines page on ids alone. The low 16 bits
are a per-process counter started at a random value, so two processes creating rows in the
same millisecond almost never collide (the unique primary key catches the rare case).
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from datetime import datetime

SEQUENCE_BITS = 16
_SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1

_lock = threading.Lock()
_counter = itertools.count(secrets.randbelow(1 << SEQUENCE_BITS))
_last = 0


def next_id() -> int:
    """A new id, strictly greater than the previous one from this process."""
    global _last
    with _lock:
        candidate = (int(time.time() * 1000) << SEQUENCE_BITS) | (next(_counter) & _SEQUENCE_MASK)
        _last = max(candidate, _last + 1)
        return _last


def id_from_datetime(moment: datetime, sequence: int | None = None) -> int:
    """An id for something created at ``moment`` (remote posts keep their published time)."""
    ms = int(moment.timestamp() * 1000)
    if sequence is None:
        sequence = secrets.randbelow(1 << SEQUENCE_BITS)
    return (ms << SEQUENCE_BITS) | (sequence & _SEQUENCE_MASK)


def id_millis(snowflake: int) -> int:
    """The millisecond part of an id: fits a Redis score (a double) exactly."""
    return snowflake >> SEQUENCE_BITS
