"""Posting: write a post with its mentions, hashtags and links (deleting: services/deletion).

One transaction per write: the post, its mentions and tags, the counters it moves and the
notifications it causes commit together or not at all. Caches are forgotten and the fan-out
job is enqueued only after the commit, so nobody reads a post that might still roll back.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from activitypub import webfinger
from models.accounts import Account
from models.base import from_row
from models.ids import next_id
from models.notifications import NotificationType
from models.posts import Post, Tag, Visibility
from services import federate, jobs, notify, post_delivery, text
from services.backends import Backends
from services.errors import NotFound, ValidationFailed
from services.postcache import (
    ACCOUNT_COLUMNS,
    POST_SNAPSHOT_COLUMNS,
    Snapshot,
    cache_new_post,
    load_accounts,
    snapshot_of,
)
from services.remote.actors import resolve_acct
from services.statuses import Hydrated, ViewerState, hydrate

IDEMPOTENCY_WINDOW = timedelta(hours=1)  # Mastodon keeps Idempotency-Key for an hour
MAX_REMOTE_LOOKUPS = 5  # unknown @user@host names resolved through WebFinger per post

_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[-_][a-z0-9]{2,8})?$", re.IGNORECASE)
# From most public to most private: a reply may be more private than its parent, never less.
_PRIVACY = [Visibility.PUBLIC, Visibility.UNLISTED, Visibility.FOLLOWERS, Visibility.DIRECT]
REPLY_NOT_FOUND = "The post you are trying to reply to does not appear to exist."

_TAGS_SQL = """
INSERT INTO tags (id, name, created_at)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[])
ON CONFLICT (name) DO NOTHING
"""

# The columns of a post a client's request decides (the rest start at their defaults).
_POST_COLUMNS = (
    "id", "author_id", "uri", "url", "local", "text", "html", "spoiler_text", "sensitive",
    "language", "visibility", "in_reply_to_id", "in_reply_to_account_id", "idempotency_key",
)  # fmt: skip
_FOLLOWER_INBOXES = "follower_inboxes"  # the insert's columns beside the author's row
_TAG_LINKS = "tag_links"
# The tags a new post's statement could not see (see _INSERT_SQL), linked in its transaction.
_LINK_TAGS_SQL = """
INSERT INTO post_tags (posts_id, tag_id) SELECT $1, t.id FROM tags t WHERE t.name = ANY($2::text[])
ON CONFLICT (posts_id, tag_id) DO NOTHING
"""

# A new post's writes in one statement: its tags' rows (those not there yet), the post, its
# tags and mentions, the author's counters (answering the author's row as it now is, and
# their remote followers' inboxes, which the Create goes to: one round trip fewer) and the
# parent's reply count. Foreign keys are checked at the statement's end, so the links may
# name the post and tags inserted beside them. A tag another transaction inserted and
# committed while this statement waited on it is in neither ``new_tags`` nor the statement's
# snapshot of ``tags``: ``tag_links`` then falls short and ``_insert`` links the rest.
_INSERT_SQL = f"""
WITH new_tags AS (
  INSERT INTO tags (id, name, created_at)
  SELECT t.id, t.name, $15 FROM unnest($19::bigint[], $16::text[]) AS t(id, name)
  ON CONFLICT (name) DO NOTHING
  RETURNING id
),
post AS (
  INSERT INTO posts ({", ".join(_POST_COLUMNS)}, created_at)
  VALUES ({", ".join(f"${n}" for n in range(1, len(_POST_COLUMNS) + 2))})
),
tagged AS (
  INSERT INTO post_tags (posts_id, tag_id)
  SELECT $1, id FROM new_tags UNION SELECT $1, t.id FROM tags t WHERE t.name = ANY($16::text[])
  RETURNING tag_id
),
mentioned AS (
  INSERT INTO mentions (id, created_at, post_id, account_id)
  SELECT m.id, $15, $1, m.account_id
  FROM unnest($17::bigint[], $18::bigint[]) AS m(id, account_id)
),
parent AS (
  UPDATE posts SET replies_count = replies_count + 1 WHERE id = $12
)
UPDATE accounts SET posts_count = posts_count + 1, last_post_at = $15 WHERE id = $2
RETURNING {ACCOUNT_COLUMNS},
  ARRAY({federate.FOLLOWER_INBOXES_SQL.format(followee="$2")}) AS {_FOLLOWER_INBOXES},
  (SELECT count(*) FROM tagged) AS {_TAG_LINKS}
"""  # noqa: S608 - constants


@dataclass(frozen=True)
class NewPost:
    """What a client asks to post; None means "the author's default"."""

    text: str
    visibility: Visibility | None = None
    in_reply_to_id: int | None = None
    spoiler_text: str = ""
    sensitive: bool | None = None
    language: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class _Draft:
    """A validated post: its row, the mentions and tags written with it, and its author."""

    row: dict[str, Any]
    mention_ids: list[int]
    tags: list[str]
    author: Account

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def parent_id(self) -> int | None:
        return self.row["in_reply_to_id"]


# --- create ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """A post as ``write_post`` leaves it: its id and, when this call wrote it, everything its
    Status entity needs (its author sees it as it was written: no likes, boosts or replies)."""

    id: int
    hydrated: Hydrated | None = None


async def create_post(backends: Backends, author_account_id: int, new: NewPost) -> int:
    """Write a post and answer its id (see ``write_post``)."""
    return (await write_post(backends, author_account_id, new)).id


async def write_post(backends: Backends, author_account_id: int, new: NewPost) -> Written:
    """Write a post; the same Idempotency-Key within an hour answers the post it made the
    first time instead of writing another."""
    key = _digest(new.idempotency_key)
    if key and (earlier := await _earlier_post(author_account_id, key)):
        return Written(earlier)
    draft = await _prepare(backends, author_account_id, new, key)
    try:
        post, author, deliveries = await _insert(backends, draft)
    except IntegrityError:
        # A concurrent request with the same key won the race: answer its post.
        if key and (earlier := await _earlier_post(author_account_id, key)):
            return Written(earlier)
        if draft.parent_id and not await Post.exists(id=draft.parent_id):
            raise NotFound(REPLY_NOT_FOUND) from None  # the parent went away meanwhile
        raise
    # After the commit, side by side (none needs another's answer; the cache and the queue
    # may be different Redis servers): the snapshot cached, the jobs enqueued, the mentioned
    # accounts loaded for the answer. One round trip of waiting instead of three or four.
    *_, accounts = await asyncio.gather(
        cache_new_post(
            backends.redis, post, forget_account=author_account_id, forget_post=draft.parent_id
        ),
        jobs.enqueue(backends.queue, jobs.Job("fanout", (draft.id,))),
        federate.send(backends.queue, deliveries),
        load_accounts(backends.redis, post["mention_ids"]),
    )
    accounts[author_account_id] = author
    viewer = ViewerState(viewer_id=author_account_id)
    return Written(draft.id, Hydrated(posts=[post], accounts=accounts, viewer=viewer))


def _digest(raw: str | None) -> str | None:
    """Keys are stored hashed: any length or content fits the column."""
    if raw is None or not raw.strip():
        return None
    return hashlib.sha256(raw.strip().encode()).hexdigest()


async def _earlier_post(author_id: int, key: str) -> int | None:
    cutoff = now() - IDEMPOTENCY_WINDOW
    ids = await Post.filter(
        author_id=author_id, idempotency_key=key, created_at__gte=cutoff
    ).values_list("id", flat=True)
    return ids[0] if ids else None


# The author (every column, for the Account the delivery path takes) and their login's
# standing and posting defaults, in one row, without the ORM's query builder.
_AUTHOR_SQL = """
SELECT a.*, u.disabled_at AS user_disabled_at, u.default_sensitive AS user_default_sensitive,
       u.default_language AS user_default_language,
       u.default_visibility AS user_default_visibility
FROM accounts a JOIN users u ON u.account_id = a.id WHERE a.id = $1
"""


async def _prepare(backends: Backends, author_id: int, new: NewPost, key: str | None) -> _Draft:
    rows = await connections.get("default").execute_query_dict(_AUTHOR_SQL, [author_id])
    if not rows or rows[0]["user_disabled_at"] is not None or rows[0]["suspended_at"] is not None:
        raise NotFound("Record not found")
    found = rows[0]  # the author's columns, and the login's as user_*
    author = from_row(Account, found)
    body, spoiler = _checked_text(new.text, new.spoiler_text)
    parent = await _parent(backends, author_id, new.in_reply_to_id)
    parsed = text.parse(body)
    mentioned = await _resolve_mentions(backends, parsed.mentions)
    settings = backends.settings
    sensitive = found["user_default_sensitive"] if new.sensitive is None else new.sensitive
    post_id = next_id()
    row = {
        "id": post_id,
        "author_id": author_id,
        "uri": f"{settings.base_url}/users/{author.username}/statuses/{post_id}",
        "url": f"{settings.base_url}/@{author.username}/{post_id}",
        "local": True,
        "text": body,
        "html": _html(backends, parsed, mentioned),
        "spoiler_text": spoiler,
        "sensitive": sensitive or bool(spoiler),  # Mastodon: a content warning hides the post
        "language": _language(new.language, found["user_default_language"]),
        "visibility": _visibility(
            new.visibility or Visibility(found["user_default_visibility"]), author, parent
        ),
        "in_reply_to_id": parent["id"] if parent else None,
        "in_reply_to_account_id": parent["author_id"] if parent else None,
        "idempotency_key": key,
    }
    mention_ids = list(dict.fromkeys(account["id"] for account in mentioned.values()))
    return _Draft(row=row, mention_ids=mention_ids, tags=parsed.tags, author=author)


def _checked_text(raw: str, raw_spoiler: str) -> tuple[str, str]:
    """Normalised text and content warning; both count towards the limit, as in Mastodon."""
    body, spoiler = text.normalise(raw or ""), text.normalise(raw_spoiler or "")
    if not body and spoiler:
        body, spoiler = spoiler, ""  # Mastodon posts a lone content warning as the text
    if not body:
        raise ValidationFailed(
            "Validation failed: Text can't be blank",
            {"text": [{"error": "ERR_BLANK", "description": "can't be blank"}]},
        )
    if text.length(body) + text.length(spoiler) > text.MAX_CHARS:
        raise ValidationFailed(
            f"Validation failed: Text character limit of {text.MAX_CHARS} exceeded",
            {"text": [{"error": "ERR_TOO_LONG", "description": "is too long"}]},
        )
    return body, spoiler


async def _parent(backends: Backends, author_id: int, post_id: int | None) -> Snapshot | None:
    """The post replied to, if the author may see it; a reply to a boost replies to its
    original, as in Mastodon."""
    if post_id is None:
        return None
    seen = await hydrate(backends.redis, author_id, [post_id])
    if not seen.posts:
        raise NotFound(REPLY_NOT_FOUND)
    post = seen.posts[0]
    return seen.originals[post["boost_of_id"]] if post["boost_of_id"] else post


def _acct_key(backends: Backends, ref: text.MentionRef) -> str:
    """The ``acct`` column a mention names: local for no host or our own host."""
    username, domain = ref.key
    if domain is None or domain == backends.settings.instance.domain.lower():
        return username
    return f"{username}@{domain}"


async def _resolve_mentions(
    backends: Backends, refs: list[text.MentionRef]
) -> dict[str, dict[str, Any]]:
    """Unsuspended accounts by acct: known ones, and ``@user@host`` names we do not know yet
    looked up through WebFinger (a few per post); names that resolve to nobody stay text."""
    keys = {_acct_key(backends, ref) for ref in refs}
    if not keys:
        return {}
    found = await _known_accounts(keys)
    unknown = sorted(key for key in keys - set(found) if "@" in key)
    for key in unknown[:MAX_REMOTE_LOOKUPS]:
        acct = webfinger.parse_acct(key)
        if acct is None:
            continue
        try:
            await resolve_acct(backends, acct)
        except NotFound:
            continue
    if unknown:
        found |= await _known_accounts(set(unknown))
    return found


async def _known_accounts(keys: set[str]) -> dict[str, dict[str, Any]]:
    rows = await Account.filter(acct__in=keys, suspended_at__isnull=True).values(
        "id", "acct", "url", "uri"
    )
    return {row["acct"]: row for row in rows}


def _html(backends: Backends, parsed: text.ParsedText, mentioned: dict[str, Any]) -> str:
    """Mentions link to the account's profile, hashtags to our tag page."""

    def mention_url(ref: text.MentionRef) -> str | None:
        account = mentioned.get(_acct_key(backends, ref))
        return None if account is None else (account["url"] or account["uri"])

    base_url = backends.settings.base_url
    return text.render_html(parsed, mention_url, lambda name: f"{base_url}/tags/{quote(name)}")


def _language(asked: str | None, default: str | None) -> str | None:
    """Mastodon falls back to the user's posting language when the one given is not a code."""
    for candidate in (asked, default):
        if candidate and _LANGUAGE.match(candidate.strip()):
            return candidate.strip()
    return None


def _visibility(asked: Visibility, author: Account, parent: Snapshot | None) -> Visibility:
    """Silenced authors post unlisted; a reply to a followers-only or direct post is never
    more public than its parent (Mastodon's composer does this; we enforce it for every
    client)."""
    if asked == Visibility.PUBLIC and author.silenced_at is not None:
        asked = Visibility.UNLISTED
    if parent is not None:
        ceiling = Visibility(parent["visibility"])
        private = ceiling in (Visibility.FOLLOWERS, Visibility.DIRECT)
        if private and _PRIVACY.index(asked) < _PRIVACY.index(ceiling):
            return ceiling
    return asked


async def _insert(backends: Backends, draft: _Draft) -> tuple[Snapshot, Snapshot, list[int]]:
    """Everything a new post changes, in one transaction; answers the post's snapshot, its
    author's (as the post leaves it) and the deliveries queued."""
    author_id, key = draft.row["author_id"], draft.row["idempotency_key"]
    async with in_transaction() as connection:
        # Set here, not by Postgres: the Create activity written with the post carries it too.
        # Inside the transaction, after its start (what now() gives rows written with it).
        created_at = now()
        if key:
            # An expired key may be used again: release it from the post that held it.
            await Post.filter(
                author_id=author_id, idempotency_key=key, created_at__lt=now() - IDEMPOTENCY_WINDOW
            ).update(idempotency_key=None)
        row = draft.row
        _, rows = await connection.execute_query(
            _INSERT_SQL,
            [
                *(row[column] for column in _POST_COLUMNS),
                created_at,
                draft.tags,
                [next_id() for _ in draft.mention_ids],
                draft.mention_ids,
                [next_id() for _ in draft.tags],
            ],
        )
        written = dict(rows[0])
        follower_inboxes = written.pop(_FOLLOWER_INBOXES)
        if written.pop(_TAG_LINKS) < len(draft.tags):
            await connection.execute_query(_LINK_TAGS_SQL, [draft.id, draft.tags])
        author = snapshot_of(written)
        # The mentioned are addressed by the post whatever its visibility, so all may see it.
        await notify.notify_many(NotificationType.MENTION, draft.mention_ids, author_id, draft.id)
        snapshot = {**draft.row, "created_at": created_at, "edited_at": None}
        snapshot |= {"tags": draft.tags, "mention_ids": draft.mention_ids}
        deliveries = await post_delivery.queue_create(
            snapshot, draft.author, backends.settings, follower_inboxes
        )
    return snapshot_of(_post_snapshot(snapshot)), author, deliveries


def _post_snapshot(written: dict[str, Any]) -> dict[str, Any]:
    """A new post's snapshot (services.postcache's shape) from what was written."""
    snapshot = {column: written.get(column) for column in POST_SNAPSHOT_COLUMNS}
    counts = {"replies_count": 0, "boosts_count": 0, "likes_count": 0}
    return snapshot | counts | {"tags": sorted(written["tags"])}  # as the snapshot query sorts


async def upsert_tags(names: list[str]) -> list[Tag]:
    """Get or create tags by name (remote posts; a local post's statement writes its own);
    ON CONFLICT makes concurrent first uses of a tag safe."""
    moment = now()
    await connections.get("default").execute_query(
        _TAGS_SQL, [[next_id() for _ in names], names, [moment for _ in names]]
    )
    return await Tag.filter(name__in=names)
