"""Our rows as ActivityStreams documents: the one place conversion out of our models happens.

``activitypub/render`` knows the shapes; this module knows our models and URLs, and fills
the shapes with plain values. The web (actors, objects, collections) and ``services/federate``
callers (posting, follows, likes, boosts, profile updates) both use it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from activitypub import render
from activitypub.vocab import PUBLIC
from instance.config import Settings
from models.accounts import Account
from models.posts import Visibility
from services.postcache import Snapshot

# Until uploads exist: what profiles show, in the API and to peers.
DEFAULT_AVATAR = "/static/avatar.png"
DEFAULT_HEADER = "/static/header.png"


def actor_values(account: Account, settings: Settings) -> render.ActorValues:
    base = settings.base_url
    return render.ActorValues(
        id=account.uri,
        type=account.actor_type,
        username=account.username,
        name=account.display_name,
        summary_html=account.note,
        url=account.url or account.uri,
        inbox=account.inbox_uri,
        outbox=account.outbox_uri,
        followers=account.followers_uri,
        following=account.following_uri,
        featured=account.featured_uri or f"{account.uri}/collections/featured",
        shared_inbox=account.shared_inbox_uri or f"{base}/inbox",
        key_id=account.public_key_id,
        public_key_pem=account.public_key,
        published=account.created_at,
        locked=account.locked,
        discoverable=account.discoverable,
        indexable=account.indexable,
        icon=render.Image(account.avatar_url or f"{base}{DEFAULT_AVATAR}"),
        image=render.Image(account.header_url or f"{base}{DEFAULT_HEADER}"),
    )


def actor_document(account: Account, settings: Settings) -> dict[str, Any]:
    return render.actor(actor_values(account, settings))


def _acct_name(account: Snapshot, settings: Settings) -> str:
    domain = account["domain"] or settings.instance.domain
    return f"@{account['username']}@{domain}"


def note_values(
    post: Snapshot,
    author: Account,
    mentioned: list[Snapshot],
    parent_uri: str | None,
    settings: Settings,
) -> render.NoteValues:
    """A local post as a Note, addressed as Mastodon addresses its visibility."""
    to, cc = render.addressing(
        Visibility(post["visibility"]).value, author.followers_uri, [m["uri"] for m in mentioned]
    )
    base = settings.base_url
    return render.NoteValues(
        id=post["uri"],
        url=post["url"] or post["uri"],
        attributed_to=author.uri,
        content_html=post["html"],
        published=_moment(post["created_at"]),
        updated=_moment(post["edited_at"]) if post["edited_at"] else None,
        to=to,
        cc=cc,
        summary=post["spoiler_text"],
        sensitive=post["sensitive"],
        in_reply_to=parent_uri,
        language=post["language"],
        mentions=[render.Tag(m["uri"], _acct_name(m, settings)) for m in mentioned],
        hashtags=[render.Tag(f"{base}/tags/{quote(t)}", f"#{t}") for t in post["tags"]],
    )


def _moment(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value


def create_activity(values: render.NoteValues) -> dict[str, Any]:
    return render.activity(
        "Create",
        f"{values.id}/activity",
        values.attributed_to,
        render.note(values, context=False),
        to=values.to,
        cc=values.cc,
        published=values.published,
    )


def delete_activity(values: render.NoteValues) -> dict[str, Any]:
    """Delete a post: the object is a Tombstone, sent to everyone who got the Create."""
    return render.activity(
        "Delete",
        f"{values.id}#delete",
        values.attributed_to,
        render.tombstone(values.id),
        to=values.to,
        cc=values.cc,
    )


def announce_activity(
    boost: Snapshot, booster: Account, original_uri: str, original_author_uri: str
) -> dict[str, Any]:
    """A boost: public ones to everyone, unlisted and followers-only to followers; the
    original's author is always in cc (Mastodon notifies them from it)."""
    visibility = Visibility(boost["visibility"])
    if visibility == Visibility.PUBLIC:
        to, cc = [PUBLIC], [booster.followers_uri, original_author_uri]
    elif visibility == Visibility.UNLISTED:
        to, cc = [booster.followers_uri], [PUBLIC, original_author_uri]
    else:
        to, cc = [booster.followers_uri], [original_author_uri]
    return render.activity(
        "Announce",
        boost["uri"],
        booster.uri,
        original_uri,
        to=to,
        cc=cc,
        published=_moment(boost["created_at"]),
    )


def simple_activity(
    kind: str, activity_id: str, actor: Account, obj: str | dict[str, Any], *, to: list[str]
) -> dict[str, Any]:
    """Follow, Like, Block, Accept, Reject: addressed (``to``) to the one account they concern
    — the followed or blocked account, the liked post's author, the follower answered."""
    return render.activity(kind, activity_id, actor.uri, obj, to=to)


def undo_activity(actor: Account, undone: dict[str, Any]) -> dict[str, Any]:
    """Undo embeds the activity it takes back, so peers need not look it up."""
    return render.activity(
        "Undo", f"{undone['id']}/undo", actor.uri, undone, to=undone.get("to", [])
    )


def update_actor_activity(account: Account, settings: Settings, stamp: int) -> dict[str, Any]:
    return render.activity(
        "Update",
        f"{account.uri}#updates/{stamp}",
        account.uri,
        actor_document(account, settings),
        to=[PUBLIC],
        cc=[account.followers_uri],
    )
