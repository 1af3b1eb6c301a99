"""Remote posts as Post rows: stored from a Create we received, or fetched by id (the object
of an Announce, the parent of a reply), depth-limited so no chain makes us fetch without end."""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from activitypub import parse
from activitypub.errors import FetchError, ParseError
from activitypub.parse import ParsedNote
from models.accounts import Account
from models.ids import id_from_datetime
from models.notifications import NotificationType
from models.posts import Mention, Post, Visibility
from services import jobs, notify, streams, text
from services.backends import Backends
from services.deletion import is_tombstoned, timeline_readers
from services.domains import host_of
from services.postcache import forget_accounts, forget_posts, load_posts
from services.posting import upsert_tags
from services.remote.actors import account_by_uri
from services.remote.fetch import fetch_json, is_local_uri

log = logging.getLogger(__name__)

MAX_SPOILER = 1024
MAX_TAGS = 50
MAX_MENTIONS = 100


def _post_id(published: datetime | None) -> int:
    """Remote posts sort by when they were published; never in the future (a wrong clock, or
    a peer wanting the top of every timeline)."""
    moment = published if published is not None and published <= now() else now()
    return id_from_datetime(moment)


def _tag_names(note: ParsedNote) -> list[str]:
    """The note's hashtags as we store them: lower-cased, once each, a bounded number."""
    return list(dict.fromkeys(t.lower()[:255] for t in note.hashtags if t))[:MAX_TAGS]


def _html(note: ParsedNote) -> str:
    body = text.sanitise_remote(note.content)
    if note.type != "Note" and note.name:
        # Article, Page, Event: the title first, as Mastodon shows them.
        title = text.sanitise(f"<p><strong>{html.escape(note.name)}</strong></p>")
        body = title + body
    return body


async def _mentioned(backends: Backends, note: ParsedNote) -> list[int]:
    """Accounts we know among the note's Mention tags (local ones by actor id or profile URL)."""
    hrefs = [m.href for m in note.mentions[:MAX_MENTIONS]]
    if not hrefs:
        return []
    ids = await Account.filter(
        Q(uri__in=hrefs) | Q(url__in=hrefs, domain__isnull=True)
    ).values_list("id", flat=True)
    return list(dict.fromkeys(ids))


async def _parent(backends: Backends, note: ParsedNote, depth: int) -> Post | None:
    if note.in_reply_to is None:
        return None
    parent = await Post.filter(uri=note.in_reply_to).first()
    if parent is None and depth < backends.settings.federation.max_fetch_depth:
        parent_id = await fetch_post(backends, note.in_reply_to, depth + 1)
        parent = await Post.filter(id=parent_id).first() if parent_id else None
    return parent


def _row(note: ParsedNote, author: Account, parent: Post | None) -> dict[str, Any]:
    visibility = parse.visibility(note.to, note.cc, author.followers_uri or None)
    return {
        "id": _post_id(note.published),
        "author_id": author.id,
        "uri": note.id,
        "url": note.url if note.url and len(note.url) <= 1024 else note.id,
        "local": False,
        "text": text.plain(note.content),
        "html": _html(note),
        "spoiler_text": text.without_nul(note.summary)[:MAX_SPOILER],
        "sensitive": note.sensitive or bool(note.summary),
        "language": (note.language or "")[:16] or None,
        "visibility": Visibility(visibility),
        "in_reply_to_id": parent.id if parent else None,
        "in_reply_to_account_id": parent.author_id if parent else None,  # type: ignore[attr-defined]
        "in_reply_to_uri": None if parent else (note.in_reply_to or "")[:1024] or None,
    }


async def store_note(
    backends: Backends, note: ParsedNote, author: Account, *, depth: int = 0
) -> int | None:
    """The id of the Post for a remote note: the one we hold, or a new one (mentions, tags,
    counts, notifications; fanned out after the commit). None for a deleted (tombstoned) note."""
    if note.attributed_to.split("#", 1)[0] != author.uri or len(note.id) > 1024:
        raise ParseError("the note is not by the actor that sent it")
    existing = await Post.filter(uri=note.id).values_list("id", flat=True)
    if existing:
        return existing[0]
    if await is_tombstoned(note.id):
        return None
    parent = await _parent(backends, note, depth)
    row = _row(note, author, parent)
    mention_ids = await _mentioned(backends, note)
    tags = _tag_names(note)
    try:
        await _insert(row, mention_ids, tags)
    except IntegrityError:
        existing = await Post.filter(uri=note.id).values_list("id", flat=True)
        if existing:
            return existing[0]  # a concurrent delivery of the same note won
        raise
    await forget_accounts(backends.redis, [author.id])
    if parent is not None:
        await forget_posts(backends.redis, [parent.id])
    await jobs.enqueue(backends.queue, jobs.Job("fanout", (row["id"],)))
    return int(row["id"])


async def _insert(row: dict[str, Any], mention_ids: list[int], tags: list[str]) -> None:
    async with in_transaction():
        post = await Post.create(**row)
        if mention_ids:
            await Mention.bulk_create([Mention(post_id=post.id, account_id=m) for m in mention_ids])
        if tags:
            await post.tags.add(*await upsert_tags(tags))
        await Account.filter(id=row["author_id"]).update(
            posts_count=F("posts_count") + 1, last_post_at=now()
        )
        if row["in_reply_to_id"] is not None:
            await Post.filter(id=row["in_reply_to_id"]).update(replies_count=F("replies_count") + 1)
        await notify.notify_many(NotificationType.MENTION, mention_ids, row["author_id"], post.id)


async def fetch_post(backends: Backends, uri: str, depth: int = 0) -> int | None:
    """A post by its id: ours, one we hold, or fetched from its server (and its author with
    it). None when it cannot be had (gone, refused, too deep, not a post)."""
    uri = uri.split("#", 1)[0] if is_local_uri(backends.settings, uri) else uri
    known = await Post.filter(uri=uri).values_list("id", flat=True)
    if known or is_local_uri(backends.settings, uri):
        return known[0] if known else None
    if depth > backends.settings.federation.max_fetch_depth or await is_tombstoned(uri):
        return None
    try:
        document, final_url = await fetch_json(backends, uri)
        note = parse.parse_note(document)
        if host_of(note.id) != host_of(final_url) or host_of(note.attributed_to) != host_of(
            note.id
        ):
            raise ParseError("the post was served by another host than its own")
        author = await account_by_uri(backends, note.attributed_to)
        if author is None or author.suspended_at is not None:
            return None
        return await store_note(backends, note, author, depth=depth)
    except (FetchError, ParseError) as exc:
        log.info("could not fetch post", extra={"uri": uri, "error": exc.message})
        return None


async def apply_edit(backends: Backends, note: ParsedNote, author: Account) -> bool:
    """An Update of a remote post we hold: its text, content warning, language and hashtags."""
    post = await Post.filter(uri=note.id, author_id=author.id).first()
    # Mastodon counts an Update as an edit only when it says when (``updated``) and that is
    # news: a poll's refreshed counts carry no ``updated`` and change no text.
    if post is None or note.updated is None:
        return False
    if note.updated <= (post.edited_at or post.created_at):
        return False
    tags = _tag_names(note)
    async with in_transaction():
        await Post.filter(id=post.id).update(
            html=_html(note),
            text=text.plain(note.content),
            spoiler_text=text.without_nul(note.summary)[:MAX_SPOILER],
            sensitive=note.sensitive or bool(note.summary),
            language=(note.language or "")[:16] or None,
            edited_at=note.updated,
        )
        await post.tags.clear()
        if tags:
            await post.tags.add(*await upsert_tags(tags))
    await forget_posts(backends.redis, [post.id])
    await _announce_edit(backends, post.id, author.id)
    return True


async def _announce_edit(backends: Backends, post_id: int, author_id: int) -> None:
    """Open streams that may show the post hear of the edit (Mastodon's ``status.update``)."""
    edited = (await load_posts(backends.redis, [post_id])).get(post_id)
    if edited is not None:
        readers = await timeline_readers(author_id, post_id)
        channels = await streams.broadcast_for(backends.redis, edited)
        await streams.publish(backends.redis, "status.update", post_id, readers, channels)
