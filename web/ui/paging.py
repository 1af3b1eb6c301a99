"""Pages of the UI's lists: ``?max_id=`` from the "load more" link, and the next link."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from quart import request

from services.paging import Page

PAGE_SIZE = 20


def requested_page(limit: int = PAGE_SIZE) -> Page:
    """The page a link asked for; a malformed max_id is the first page, not an error."""
    raw = request.args.get("max_id", "")
    max_id = int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 19 else None
    return Page(max_id=max_id if max_id and max_id < 2**63 else None, limit=limit)


def next_link(ids: Sequence[int], limit: int = PAGE_SIZE, **keep: str) -> str | None:
    """The "load more" URL after a full page (ids oldest last), keeping other query values."""
    if len(ids) < limit or not ids:
        return None
    return f"{request.path}?{urlencode({**keep, 'max_id': ids[-1]})}"
