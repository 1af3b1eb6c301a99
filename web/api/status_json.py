"""Pages of statuses as JSON text, spliced from parts serialised once per snapshot.

A timeline page renders the same posts and authors for viewer after viewer, and all but a few
of a Status's members are the same for every viewer. Those are serialised once per snapshot
object (services/postcache parses each cached snapshot once and shares it; nobody changes a
snapshot in place, so an object stands for its content) and spliced with the viewer's flags.
The text is exactly ``orjson.dumps(render_statuses(...))`` (tests/unit/test_status_json.py):
the members come from the same functions in web/api/entities.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any

import orjson

from instance.config import Settings
from services.postcache import Snapshot
from services.statuses import Hydrated
from web.api.entities import mentions_of, post_members, render_account, viewer_members

# Entries per memo: about a kilobyte each, plus the snapshot they keep alive.
MEMO_SIZE = 4096


def _members(members: dict[str, Any]) -> bytes:
    """An object's members as JSON text without its braces: ``"a":1,"b":2``."""
    return orjson.dumps(members)[1:-1]


class _Memo:
    """Bytes derived from an unchanging object and the settings, found by identity. An entry
    holds its object, so no other object can take its id while the entry lives; when the memo
    is full it starts over (a few pages' worth are serialised again)."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._size = size
        self._entries: dict[tuple[int, int, bool], tuple[object, Settings, Any]] = {}

    def get(self, obj: object, settings: Settings, variant: bool = False) -> Any:
        entry = self._entries.get((id(obj), id(settings), variant))
        return None if entry is None else entry[2]

    def put(self, obj: object, settings: Settings, value: Any, variant: bool = False) -> Any:
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[(id(obj), id(settings), variant)] = (obj, settings, value)
        return value


@dataclass(frozen=True, slots=True)
class _PostParts:
    head: bytes  # '{' and the members before "account"
    body: bytes  # ',' and the members between "account" and "mentions"
    counts: bytes  # ',' and those between "mentions" and "reblog"
    tail: bytes  # ',' and those between "reblog" and the viewer's flags


_posts = _Memo()
_accounts = _Memo()

# The closing members for each (liked, boosted, own), and the closing brace.
_FLAGS = {
    combo: b"," + _members(viewer_members(*combo)) + b"}"
    for combo in product((False, True), repeat=3)
}


def _post_parts(post: Snapshot, settings: Settings, wrapper: bool) -> _PostParts:
    parts = _posts.get(post, settings, wrapper)
    if parts is None:
        head, body, counts, tail = post_members(post, settings, wrapper=wrapper)
        parts = _posts.put(
            post,
            settings,
            _PostParts(
                b"{" + _members(head),
                b"," + _members(body),
                b"," + _members(counts),
                b"," + _members(tail),
            ),
            wrapper,
        )
    return parts


def _account_json(account: Snapshot, settings: Settings) -> bytes:
    text = _accounts.get(account, settings)
    if text is None:
        text = _accounts.put(account, settings, orjson.dumps(render_account(account, settings)))
    return text


def _status_json(post: Snapshot, hydrated: Hydrated, settings: Settings) -> bytes:
    """``render_status``'s entity as JSON text."""
    original = hydrated.originals.get(post["boost_of_id"]) if post["boost_of_id"] else None
    parts = _post_parts(post, settings, original is not None)
    viewer = hydrated.viewer
    flagged = (original if original is not None else post)["id"]
    own = viewer.viewer_id is not None and post["author_id"] == viewer.viewer_id
    mentions = orjson.dumps(mentions_of(post, hydrated)) if post["mention_ids"] else b"[]"
    reblog = b"null" if original is None else _status_json(original, hydrated, settings)
    return b"".join((
        parts.head, b',"account":', _account_json(hydrated.accounts[post["author_id"]], settings),
        parts.body, b',"mentions":', mentions,
        parts.counts, b',"reblog":', reblog,
        parts.tail, _FLAGS[(flagged in viewer.liked, flagged in viewer.boosted, own)],
    ))  # fmt: skip


def statuses_json(hydrated: Hydrated, settings: Settings) -> bytes:
    """``orjson.dumps(render_statuses(hydrated, settings))``, from the memoised parts."""
    statuses = (_status_json(post, hydrated, settings) for post in hydrated.posts)
    return b"[" + b",".join(statuses) + b"]"
