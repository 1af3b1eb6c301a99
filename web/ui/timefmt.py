"""Times as people read them on a timeline: "now", "3 min", "5 h", "2 d", then the date."""

from __future__ import annotations

from datetime import UTC, datetime

MINUTE, HOUR, DAY = 60, 3600, 86400


def parse_time(moment: datetime | str) -> datetime:
    """Snapshots carry ISO strings with a Z; model objects carry datetimes."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def ago(moment: datetime | str, now: datetime | None = None) -> str:
    """How long ago, short; the same rules as static/starling.js, which keeps it ticking."""
    when = parse_time(moment)
    seconds = int(((now or datetime.now(UTC)) - when).total_seconds())
    if seconds < MINUTE:
        return "now"
    if seconds < HOUR:
        return f"{seconds // MINUTE} min"
    if seconds < DAY:
        return f"{seconds // HOUR} h"
    if seconds < 7 * DAY:
        return f"{seconds // DAY} d"
    if when.year == (now or datetime.now(UTC)).year:
        return f"{when:%b} {when.day}"
    return f"{when:%b} {when.day}, {when.year}"


def iso(moment: datetime | str) -> str:
    """The machine-readable form for <time datetime>."""
    return parse_time(moment).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
