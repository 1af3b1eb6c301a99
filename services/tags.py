"""Hashtags: look-up by name, a week of use, follows by local accounts, the hashtag timeline,
and search by prefix.

Names are stored lower-cased without the '#' (services/text, services/remote/notes), so every
look-up lower-cases too. Like Mastodon, a valid name that nobody has used yet is still a tag
one can look at (empty history) and follow (the row is created then); a name that cannot be a
hashtag names nothing (404). The timeline and the history read ``post_tags`` through its
``(tag_id, posts_id)`` index (migration 0006), one range scan per tag, never all posts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from tortoise import connections

from models.ids import id_from_datetime, next_id
from services.errors import NotFound
from services.paging import Page
from services.posting import upsert_tags
from services.statuses import Hydrated
from services.timelines import BATCH_SLACK, hydrate_page

HISTORY_DAYS = 7
MAX_NAME_LENGTH = 255  # models.posts.Tag.name
PER_MODE = 4  # Mastodon's TagFeed::LIMIT_PER_MODE: names read from each of any[], all[], none[]

# Mastodon allows these inside a name ("a·b", "ポケモン・サン"), never at either end.
_SEPARATORS = "\u00b7\u30fb\u200c"
_NAME = re.compile(rf"\w(?:[\w{_SEPARATORS}]*\w)?")
_LETTER = re.compile(r"[^\W\d_]")  # a name needs one: "#2024" is not a hashtag
_NOT_IN_NAME = re.compile(rf"[^\w{_SEPARATORS}]")
_DAY = 86400


def _fold_table() -> tuple[str, str]:
    """Lower-case Latin letters with accents and the letters they decompose to ("é" -> "e"):
    both sides of a search are folded with it, in Python and in SQL (``translate``)."""
    accented, plain = [], []
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFD", char)[0]
        if base != char and base.isascii() and char == char.lower():
            accented.append(char)
            plain.append(base)
    return "".join(accented), "".join(plain)


_ACCENTED, _PLAIN = _fold_table()
_FOLD = str.maketrans(_ACCENTED, _PLAIN)


@dataclass(frozen=True)
class DayUse:
    """One day of a tag's history: ``day`` is the Unix time of its midnight (UTC)."""

    day: int
    uses: int
    accounts: int


@dataclass(frozen=True)
class TagView:
    """What Mastodon's Tag entity shows. ``following`` is None without a signed-in viewer
    (Mastodon then leaves the field out)."""

    name: str
    history: tuple[DayUse, ...]
    following: bool | None = None


@dataclass(frozen=True)
class FollowedTag:
    """A followed tag and the follow's id, which pages the list (Mastodon's Link headers)."""

    follow_id: int
    tag: TagView


# --- names ------------------------------------------------------------------------------


def normalise_name(raw: str) -> str:
    """The stored form of a hashtag name: NFC, lower-cased, without one leading '#'.
    NotFound (404, as Mastodon answers) when it cannot be a hashtag ("tag-name", "2024")."""
    name = unicodedata.normalize("NFC", raw.strip().removeprefix("#")).lower()
    valid = len(name) <= MAX_NAME_LENGTH and _NAME.fullmatch(name) and _LETTER.search(name)
    if not valid:
        raise NotFound("Record not found")
    return name


def _names(raw: Iterable[str]) -> list[str]:
    """The valid names among ``raw`` (at most PER_MODE, as Mastodon reads them), normalised."""
    names = []
    for value in list(raw)[:PER_MODE]:
        try:
            names.append(normalise_name(value))
        except NotFound:
            continue  # Mastodon finds no tag by such a name either
    return names


async def _query(sql: str, *args: object) -> list[Any]:
    _, rows = await connections.get("default").execute_query(sql, list(args))
    return list(rows)


async def _tag_ids(names: Sequence[str]) -> dict[str, int]:
    rows = await _query("SELECT id, name FROM tags WHERE name = ANY($1::text[])", list(names))
    return {row["name"]: row["id"] for row in rows}


# --- the Tag entity's data --------------------------------------------------------------

# Uses and distinct authors per tag and day, counted as Mastodon's trends count them: public
# posts (not boosts) by accounts neither suspended nor silenced. The id bound keeps it to one
# index range per tag: ids are snowflakes of the creation time (models/ids), local and remote.
_HISTORY_SQL = """
SELECT pt.tag_id, floor(extract(epoch FROM p.created_at) / 86400)::bigint AS day,
       count(*) AS uses, count(DISTINCT p.author_id) AS accounts
FROM post_tags pt
JOIN posts p ON p.id = pt.posts_id
JOIN accounts a ON a.id = p.author_id
WHERE pt.tag_id = ANY($1::bigint[]) AND pt.posts_id >= $2 AND p.created_at >= $3
  AND p.visibility = 'public' AND p.deleted_at IS NULL AND p.boost_of_id IS NULL
  AND a.suspended_at IS NULL AND a.silenced_at IS NULL
GROUP BY pt.tag_id, day
"""


def _days(moment: datetime) -> list[int]:
    """The midnights (Unix time, UTC) of the last HISTORY_DAYS days, today first."""
    today = int(moment.timestamp()) // _DAY * _DAY
    return [today - n * _DAY for n in range(HISTORY_DAYS)]


async def histories(tag_ids: Sequence[int]) -> dict[int, tuple[DayUse, ...]]:
    """A week of use for each tag, newest day first, in one query; days unused count zero."""
    days = _days(datetime.now(UTC))
    counts: dict[tuple[int, int], tuple[int, int]] = {}
    if tag_ids:
        oldest = datetime.fromtimestamp(days[-1], UTC)
        rows = await _query(
            _HISTORY_SQL, list(tag_ids), id_from_datetime(oldest, sequence=0), oldest
        )
        for row in rows:
            counts[row["tag_id"], row["day"] * _DAY] = (row["uses"], row["accounts"])
    return {
        tag_id: tuple(DayUse(day, *counts.get((tag_id, day), (0, 0))) for day in days)
        for tag_id in tag_ids
    }


async def _followed_among(viewer_id: int, tag_ids: Sequence[int]) -> set[int]:
    rows = await _query(
        "SELECT tag_id FROM tag_follows WHERE account_id = $1 AND tag_id = ANY($2::bigint[])",
        viewer_id,
        list(tag_ids),
    )
    return {row["tag_id"] for row in rows}


async def tag_views(tags: Sequence[tuple[int | None, str]], viewer_id: int | None) -> list[TagView]:
    """Views of ``(id, name)`` pairs (id None: a tag not stored yet), in the same order: two
    queries whatever their number."""
    known = [tag_id for tag_id, _ in tags if tag_id is not None]
    week = await histories(known)
    followed = await _followed_among(viewer_id, known) if viewer_id is not None and known else set()
    unused = tuple(DayUse(day, 0, 0) for day in _days(datetime.now(UTC)))
    return [
        TagView(
            name=name,
            history=week[tag_id] if tag_id is not None else unused,
            following=None if viewer_id is None else tag_id in followed,
        )
        for tag_id, name in tags
    ]


async def _view(name: str, tag_id: int | None, viewer_id: int | None) -> TagView:
    (view,) = await tag_views([(tag_id, name)], viewer_id)
    return view


async def show_tag(raw_name: str, viewer_id: int | None) -> TagView:
    """A tag by name; a valid name nobody has used yet shows with an empty history."""
    name = normalise_name(raw_name)
    return await _view(name, (await _tag_ids([name])).get(name), viewer_id)


# --- follows ----------------------------------------------------------------------------

_FOLLOW_SQL = """
INSERT INTO tag_follows (id, account_id, tag_id, created_at) VALUES ($1, $2, $3, now())
ON CONFLICT (account_id, tag_id) DO NOTHING
"""
_UNFOLLOW_SQL = "DELETE FROM tag_follows WHERE account_id = $1 AND tag_id = $2"

_FOLLOWED_SQL = """
SELECT f.id, t.id AS tag_id, t.name FROM tag_follows f JOIN tags t ON t.id = f.tag_id
WHERE f.account_id = $1
  AND f.id < COALESCE($2::bigint, 9223372036854775807) AND f.id > COALESCE($3::bigint, 0)
ORDER BY f.id {order} LIMIT $4
"""


async def follow_tag(account_id: int, raw_name: str) -> TagView:
    """Follow a tag, creating it if nobody has used it yet; following twice is one follow."""
    name = normalise_name(raw_name)
    (tag,) = await upsert_tags([name])
    await _query(_FOLLOW_SQL, next_id(), account_id, tag.id)
    return await _view(name, tag.id, account_id)


async def unfollow_tag(account_id: int, raw_name: str) -> TagView:
    """Stop following a tag; a tag not followed (or unknown) answers as it is."""
    name = normalise_name(raw_name)
    tag_id = (await _tag_ids([name])).get(name)
    if tag_id is not None:
        await _query(_UNFOLLOW_SQL, account_id, tag_id)
    return await _view(name, tag_id, account_id)


async def followed_tags(account_id: int, page: Page) -> list[FollowedTag]:
    """A page of the tags ``account_id`` follows, the newest follow first."""
    sql = _FOLLOWED_SQL.format(order="ASC" if page.ascending else "DESC")
    rows = await _query(sql, account_id, page.max_id, page.lower, page.limit)
    rows.sort(key=lambda row: row["id"], reverse=True)
    views = await tag_views([(row["tag_id"], row["name"]) for row in rows], account_id)
    return [FollowedTag(row["id"], view) for row, view in zip(rows, views, strict=True)]


# --- the hashtag timeline ---------------------------------------------------------------

# For each tag in $1 (the tag and any[]), one backward range scan of post_tags(tag_id,
# posts_id) (COALESCE keeps the bounds usable by the index), then a merge. Public original
# posts (replies included, as in Mastodon's TagFeed) by accounts not silenced, that carry
# every tag of $5 (all[]: the M2M's (posts_id, tag_id) index) and none of $6 (none[]).
_TIMELINE_SQL = """
SELECT DISTINCT x.id FROM unnest($1::bigint[]) AS t(tag_id)
CROSS JOIN LATERAL (
  SELECT p.id FROM post_tags pt
  JOIN posts p ON p.id = pt.posts_id
  JOIN accounts a ON a.id = p.author_id
  WHERE pt.tag_id = t.tag_id
    AND pt.posts_id < COALESCE($2::bigint, 9223372036854775807)
    AND pt.posts_id > COALESCE($3::bigint, 0)
    AND p.visibility = 'public' AND p.deleted_at IS NULL AND p.boost_of_id IS NULL
    AND a.silenced_at IS NULL AND a.suspended_at IS NULL {origin}
    AND (SELECT count(*) FROM post_tags q
         WHERE q.posts_id = p.id AND q.tag_id = ANY($5::bigint[])) = cardinality($5::bigint[])
    AND NOT EXISTS (SELECT 1 FROM post_tags q
                    WHERE q.posts_id = p.id AND q.tag_id = ANY($6::bigint[]))
  ORDER BY pt.posts_id {order} LIMIT $4
) x
ORDER BY x.id {order} LIMIT $4
"""


@dataclass(frozen=True)
class TagFilter:
    """What a hashtag timeline asks besides the tag: Mastodon's any[], all[], none[], and
    local / remote (both, like neither, mean every origin, as in Mastodon's PublicFeed)."""

    any_of: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    local: bool = False
    remote: bool = False

    @property
    def origin_sql(self) -> str:
        if self.local and not self.remote:
            return "AND p.local"
        if self.remote and not self.local:
            return "AND NOT p.local"
        return ""


async def tag_timeline_ids(raw_name: str, page: Page, wanted: TagFilter) -> list[int]:
    """Candidate post ids for a page of a hashtag timeline, newest first (a few more than
    ``page.limit``: hydration drops what the viewer may not see)."""
    tag = _names([raw_name])
    if not tag:
        return []  # no tag can have that name: Mastodon answers an empty list too
    any_names, all_names = [*tag, *_names(wanted.any_of)], _names(wanted.all_of)
    none_names = _names(wanted.none_of)
    ids = await _tag_ids([*any_names, *all_names, *none_names])
    if tag[0] not in ids or any(name not in ids for name in all_names):
        # No post carries a tag nobody has used. (Mastodon ignores unknown all[] names,
        # which widens the timeline beyond what was asked.)
        return []

    def known(names: list[str]) -> list[int]:
        return sorted({ids[name] for name in names if name in ids})

    order = "ASC" if page.ascending else "DESC"
    sql = _TIMELINE_SQL.format(origin=wanted.origin_sql, order=order)
    count = page.limit + BATCH_SLACK
    rows = await _query(
        sql, known(any_names), page.max_id, page.lower, count, known(all_names), known(none_names)
    )
    return sorted((row["id"] for row in rows), reverse=True)


async def read_tag_timeline(
    redis: Redis, viewer_id: int | None, raw_name: str, page: Page, wanted: TagFilter
) -> Hydrated:
    """A page of public posts with the tag, newest first, without the posts of accounts the
    viewer blocks or mutes (or that block it) and of suspended accounts."""
    ids = await tag_timeline_ids(raw_name, page, wanted)
    if not ids:
        return Hydrated(posts=[])
    return await hydrate_page(redis, viewer_id, ids, page, hide_muted=True)


# --- search -----------------------------------------------------------------------------

# Names starting with the accent-folded query $5 ($1 as a LIKE pattern). ASCII names are
# their own folding, and folding keeps lengths, so only the other names pay for translate(),
# on as many letters as the query has. Of the SEARCH_CANDIDATES shortest (the exact name is
# among them), the exact name ($2) comes first, then its accent-folded twins (the other
# candidates of the query's length), then the tags of the newest posts (one index probe per
# tag), then shorter names. $6: the exact name alone (exclude_unreviewed).
_SEARCH_SQL = r"""
WITH candidates AS (
  SELECT t.id, t.name FROM tags t
  WHERE (t.name LIKE $1 ESCAPE '\'
         OR (octet_length(t.name) <> char_length(t.name)
             AND translate(left(t.name, char_length($5)), $3, $4) = $5))
    AND (NOT $6::boolean OR t.name = $2)
  ORDER BY length(t.name), t.name LIMIT $9
)
SELECT c.id, c.name FROM candidates c
ORDER BY c.name = $2 DESC, char_length(c.name) = char_length($5) DESC,
         (SELECT max(pt.posts_id) FROM post_tags pt WHERE pt.tag_id = c.id) DESC NULLS LAST,
         length(c.name), c.name
LIMIT $7 OFFSET $8
"""
SEARCH_CANDIDATES = 1000  # bounds the ranking's index probes for a one-letter query


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


async def search_tags(
    query: str,
    limit: int,
    offset: int,
    *,
    exclude_unreviewed: bool = False,
    viewer_id: int | None = None,
) -> list[TagView]:
    """Tags whose name starts with ``query`` (a leading '#', case and accents ignored), the
    exact name first, then by recent use. Nothing here is reviewed by moderators (Mastodon's
    trend review), so ``exclude_unreviewed`` keeps the exact match alone, as Mastodon keeps it.
    ``viewer_id`` (signed in) fills ``following``, as Mastodon's search results carry it."""
    term = unicodedata.normalize("NFC", query.strip().removeprefix("#")).lower()
    term = _NOT_IN_NAME.sub("", term)  # as Mastodon's normaliser: "#foo-bar" looks for foobar
    if not term or limit <= 0:
        return []
    folded = term.translate(_FOLD)
    rows = await _query(
        _SEARCH_SQL,
        _like_prefix(folded),
        term,
        _ACCENTED,
        _PLAIN,
        folded,
        exclude_unreviewed,
        limit,
        max(offset, 0),
        SEARCH_CANDIDATES,
    )
    return await tag_views([(row["id"], row["name"]) for row in rows], viewer_id)
