"""Searching posts and accounts, and resolving ``@user@host`` or a URL (DESIGN.md "Search").

The index proposes candidates in ranked order; Postgres, through ``hydrate``, decides what the
searcher may see: followers-only posts for accepted followers, direct posts for their
participants, nothing across a block either way, nothing of suspended accounts. On top of that,
as in Mastodon, posts of an account that opted out of search (``indexable`` false) are found
only by its followers and the people it mentions, and accounts that opted out of discovery are
listed only on an exact match or to their followers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tortoise import connections
from whoosh import query as wq

from activitypub import webfinger
from search import query as sq
from search.reader import Hits, SearchUnavailable
from services import metrics
from services.backends import Backends
from services.errors import NotFound, Unavailable
from services.postcache import Snapshot, load_accounts
from services.remote import resolve as remote_resolve
from services.remote.actors import resolve_acct
from services.statuses import Hydrated, hydrate

MAX_CANDIDATES = 2000  # the furthest into the ranking one request reads
# Candidates read beyond those wanted: a few may be invisible to the searcher; hydrating more
# than needed costs more than the index does.
WINDOW_SLACK = 10
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_ACCT = re.compile(r"^@?[\w.\-]+@[\w.\-]+(:\d+)?$")


@dataclass(frozen=True)
class PostSearch:
    text: str
    limit: int = 20
    offset: int = 0
    account_id: int | None = None
    max_id: int | None = None
    min_id: int | None = None


@dataclass(frozen=True)
class AccountSearch:
    text: str
    limit: int = 40
    offset: int = 0
    following: bool = False
    resolve: bool = False


def looks_like_url(text: str) -> bool:
    return bool(_URL.match(text.strip()))


def looks_like_acct(text: str) -> bool:
    return bool(_ACCT.match(text.strip()))


async def _ids(sql: str, *args: object) -> list[int]:
    _, rows = await connections.get("default").execute_query(sql, list(args))
    return [row[0] for row in rows]


def _reader(backends: Backends) -> Any:
    if backends.search is None:
        raise Unavailable("Search is not available")
    return backends.search


async def _ranked(backends: Backends, name: str, matched: wq.Query, window: int) -> Hits:
    reader = _reader(backends)
    try:
        return await (reader.posts if name == "posts" else reader.accounts)(matched, window)
    except SearchUnavailable as exc:
        raise Unavailable("Search is temporarily unavailable") from exc


async def _page(
    backends: Backends,
    name: str,
    matched: wq.Query,
    want: int,
    keep: Any,
) -> list[Any]:
    """The first ``want`` candidates that ``keep`` lets through, in ranked order: read a
    window of the ranking, widen it while too few survive and more exist (bounded)."""
    window = min(want + WINDOW_SLACK, MAX_CANDIDATES)
    while True:
        hits = await _ranked(backends, name, matched, window)
        kept = await keep(hits.ids)
        if len(kept) >= want or hits.total <= window or window >= MAX_CANDIDATES:
            return kept[:want]
        window = min(window * 4, MAX_CANDIDATES)


# --- posts ------------------------------------------------------------------------------

_FOLLOWS_SQL = (
    "SELECT followee_id FROM follows WHERE follower_id = $1 AND state = 'accepted'"
    " AND followee_id = ANY($2::bigint[])"
)


async def _authors(backends: Backends, viewer_id: int, names: list[str]) -> list[int] | None:
    """Account ids for ``from:`` values (``me``, ``user``, ``user@host``); None when one names
    nobody we know (then nothing matches)."""
    ids = []
    domain = backends.settings.instance.domain.lower()
    for name in names:
        if name == "me":
            ids.append(viewer_id)
            continue
        user, _, host = name.partition("@")
        key = user if host in ("", domain) else f"{user}@{host}"
        found = await _ids("SELECT id FROM accounts WHERE acct = $1", key)
        if not found:
            return None
        ids.append(found[0])
    return ids


def _narrowed(matched: wq.Query, request: PostSearch, authors: list[int]) -> wq.Query:
    """Only the authors asked for (``from:``, ``account_id``), without changing the ranking.
    Who may see what is left to hydrate: others' direct posts are few, and excluding them
    here would make the index list every other post for each query."""
    narrowed = matched
    if authors:
        narrowed = wq.Require(narrowed, wq.Or([wq.Term("author", str(a)) for a in authors]))
    if request.account_id is not None:
        narrowed = wq.Require(narrowed, wq.Term("author", str(request.account_id)))
    return narrowed


def _in_range(post_id: int, request: PostSearch) -> bool:
    """``max_id`` / ``min_id`` as Mastodon takes them: ids strictly between."""
    return (request.max_id is None or post_id < request.max_id) and (
        request.min_id is None or post_id > request.min_id
    )


@metrics.timed(metrics.SEARCH.labels("posts"))
async def search_posts(backends: Backends, viewer_id: int, request: PostSearch) -> Hydrated:
    """Posts matching the query that the viewer may find, best first."""
    parsed = sq.parse(request.text)
    matched = sq.post_query(parsed)
    authors = await _authors(backends, viewer_id, parsed.authors)
    if matched is None or authors is None:
        return Hydrated(posts=[])
    # The last hydration holds every post kept (each round reads the ranking from the top),
    # with the accounts and originals that rendering them needs.
    latest = Hydrated(posts=[])

    async def keep(ids: list[int]) -> list[Snapshot]:
        nonlocal latest
        ids = [post_id for post_id in ids if _in_range(post_id, request)]
        latest = await hydrate(backends.redis, viewer_id, ids, hide_muted=True)
        opted_out = {a for a, snapshot in latest.accounts.items() if not snapshot["indexable"]}
        # Silenced authors (Mastodon's "limited") are found only by their followers, too.
        opted_out |= set(await _ids(_SILENCED_SQL, list(latest.accounts)))
        return [p for p in latest.posts if _findable(p, viewer_id, opted_out, latest)]

    want = request.offset + request.limit
    posts = await _page(backends, "posts", _narrowed(matched, request, authors), want, keep)
    latest.posts = posts[request.offset :]
    return latest


def _findable(post: Snapshot, viewer_id: int, opted_out: set[int], seen: Hydrated) -> bool:
    author = post["author_id"]
    if author not in opted_out or author == viewer_id:
        return True
    return author in seen.viewer.following or viewer_id in post["mention_ids"]


# --- accounts ---------------------------------------------------------------------------

_BLOCKS_SQL = (
    "SELECT target_id FROM blocks WHERE account_id = $1"
    " UNION SELECT account_id FROM blocks WHERE target_id = $1"
)
_SILENCED_SQL = "SELECT id FROM accounts WHERE id = ANY($1::bigint[]) AND silenced_at IS NOT NULL"
_FOLLOWING_SQL = "SELECT followee_id FROM follows WHERE follower_id = $1 AND state = 'accepted'"


@metrics.timed(metrics.SEARCH.labels("accounts"))
async def search_accounts(
    backends: Backends, viewer_id: int | None, request: AccountSearch
) -> list[Snapshot]:
    """Accounts whose names start with what was typed, an exact ``acct`` first; with
    ``resolve``, an unknown ``user@host`` is looked up through WebFinger first."""
    text = request.text.strip()
    resolved = await _resolved_acct(backends, text) if request.resolve else None
    matched = sq.account_query(text)
    if matched is None:
        return []
    following = set(await _ids(_FOLLOWING_SQL, viewer_id)) if viewer_id is not None else set()
    blocked = set(await _ids(_BLOCKS_SQL, viewer_id)) if viewer_id is not None else set()
    exact = text.lstrip("@").lower()
    if request.following:
        if not following:
            return []
        matched = wq.Require(matched, wq.Or([wq.Term("id", str(a)) for a in following]))

    async def keep(ids: list[int]) -> list[Snapshot]:
        if resolved is not None and resolved not in ids:
            ids = [resolved, *ids]
        found = await _unblocked(backends, ids, blocked)
        silenced = set(await _ids(_SILENCED_SQL, [account["id"] for account in found]))
        return [
            account
            for account in found
            if (account["discoverable"] and account["id"] not in silenced)
            or account["id"] in following
            or account["id"] == resolved
            or _acct_of(account) == exact
        ]

    want = request.offset + request.limit
    accounts = await _page(backends, "accounts", matched, want, keep)
    return accounts[request.offset :]


async def _unblocked(backends: Backends, ids: list[int], blocked: set[int]) -> list[Snapshot]:
    """Snapshots of the accounts that exist, are not suspended and not blocked, in order."""
    accounts = await load_accounts(backends.redis, ids)
    return [
        account
        for account_id in ids
        if (account := accounts.get(account_id)) is not None
        and not account["suspended_at"]
        and account_id not in blocked
    ]


async def visible_accounts(
    backends: Backends, viewer_id: int | None, ids: list[int]
) -> list[Snapshot]:
    """The accounts of ``ids`` the viewer may be shown (a resolved URL, say)."""
    blocked = set(await _ids(_BLOCKS_SQL, viewer_id)) if viewer_id is not None else set()
    return await _unblocked(backends, ids, blocked)


def _acct_of(account: Snapshot) -> str:
    domain = account["domain"]
    username = account["username"].lower()
    return username if domain is None else f"{username}@{domain.lower()}"


async def _resolved_acct(backends: Backends, text: str) -> int | None:
    if not looks_like_acct(text):
        return None
    acct = webfinger.parse_acct(text.lstrip("@"))
    if acct is None or acct.host == backends.settings.instance.domain.lower():
        return None
    try:
        return (await resolve_acct(backends, acct)).id
    except NotFound:
        return None


# --- a URL ------------------------------------------------------------------------------


async def resolve_url(backends: Backends, url: str) -> remote_resolve.Resolved:
    """The account or post a URL names: ours, one we hold, or fetched from its server."""
    return await remote_resolve.resolve_url(backends, url.strip())
