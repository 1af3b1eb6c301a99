"""A page of a newest-first list as Mastodon clients ask for it: max_id, since_id, min_id, limit."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
NO_UPPER = 2**63  # above every id (ids are signed 64-bit)


@dataclass(frozen=True)
class Page:
    """``max_id``: older than; ``since_id``: newer than (newest first); ``min_id``: the page
    just above (the oldest items newer than min_id, still returned newest first)."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = DEFAULT_LIMIT

    @property
    def lower(self) -> int | None:
        """The exclusive lower bound on ids."""
        candidates = [value for value in (self.since_id, self.min_id) if value is not None]
        return max(candidates) if candidates else None

    @property
    def ascending(self) -> bool:
        """min_id asks for the items just above it: read upwards, then reverse."""
        return self.min_id is not None


def clamp_limit(limit: int | None, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    """Mastodon clamps rather than rejects: <= 0 means the default, too many the maximum."""
    if limit is None or limit <= 0:
        return default
    return min(limit, maximum)


def select_page(ids_newest_first: list[int], page: Page) -> list[int]:
    """Apply a page to a list of candidate ids (newest first), honouring min_id's direction."""
    # The bounds read once: pages are selected from every timeline's candidates.
    high = page.max_id if page.max_id is not None else NO_UPPER
    low = page.lower if page.lower is not None else -1
    kept = [item for item in ids_newest_first if low < item < high]
    if page.ascending:
        return kept[-page.limit :]
    return kept[: page.limit]
