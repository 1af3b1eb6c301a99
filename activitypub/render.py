"""Plain values -> ActivityStreams 2.0 documents, in Mastodon's dialect (what its peers expect).

Every function takes plain values (strings, datetimes, dataclasses defined here), never ORM
objects, and returns a JSON-ready dict. ``services/federate`` and ``web/federation`` are the only
callers: conversion out of our models happens there, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from activitypub.vocab import AS_CONTEXT, PUBLIC, SECURITY_CONTEXT

# Mastodon's extension terms, so JSON-LD processors (Misskey, Pleroma, Fedify) read our
# fields with the meaning Mastodon gives them.
EXTENSIONS: dict[str, Any] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "toot": "http://joinmastodon.org/ns#",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
}
ACTOR_CONTEXT: list[Any] = [AS_CONTEXT, SECURITY_CONTEXT, EXTENSIONS]
OBJECT_CONTEXT: list[Any] = [AS_CONTEXT, EXTENSIONS]


def iso(moment: datetime) -> str:
    """xsd:dateTime in UTC without fractions, as Mastodon writes ``published``."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- actors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    url: str
    media_type: str = "image/png"


@dataclass(frozen=True)
class ActorValues:
    id: str
    username: str
    inbox: str
    outbox: str
    followers: str
    following: str
    featured: str
    shared_inbox: str
    key_id: str
    public_key_pem: str
    url: str
    published: datetime
    type: str = "Person"
    name: str = ""
    summary_html: str = ""
    locked: bool = False
    discoverable: bool = True
    indexable: bool = True
    icon: Image | None = None
    image: Image | None = None


def _image(image: Image | None) -> dict[str, str] | None:
    return (
        None
        if image is None
        else {"type": "Image", "mediaType": image.media_type, "url": image.url}
    )


def actor(values: ActorValues) -> dict[str, Any]:
    """A Person (or Service, Application) with everything Mastodon's spec page asks for."""
    doc: dict[str, Any] = {
        "@context": ACTOR_CONTEXT,
        "id": values.id,
        "type": values.type,
        "preferredUsername": values.username,
        "name": values.name,
        "summary": values.summary_html,
        "url": values.url,
        "inbox": values.inbox,
        "outbox": values.outbox,
        "followers": values.followers,
        "following": values.following,
        "featured": values.featured,
        "endpoints": {"sharedInbox": values.shared_inbox},
        "manuallyApprovesFollowers": values.locked,
        "discoverable": values.discoverable,
        "indexable": values.indexable,
        "published": iso(values.published),
        "publicKey": {
            "id": values.key_id,
            "owner": values.id,
            "publicKeyPem": values.public_key_pem,
        },
    }
    for name, image in (("icon", values.icon), ("image", values.image)):
        rendered = _image(image)
        if rendered is not None:
            doc[name] = rendered
    return doc


# --- posts --------------------------------------------------------------------------------


def addressing(
    visibility: str, followers: str, mentioned: Sequence[str]
) -> tuple[list[str], list[str]]:
    """``to`` and ``cc`` for a post, as Mastodon addresses each visibility."""
    mentioned = list(dict.fromkeys(mentioned))
    if visibility == "public":
        return [PUBLIC], [followers, *mentioned]
    if visibility == "unlisted":
        return [followers], [PUBLIC, *mentioned]
    if visibility == "followers":
        return [followers], mentioned
    return mentioned, []  # direct


@dataclass(frozen=True)
class Tag:
    href: str
    name: str  # "@bob@host" for a Mention, "#tag" for a Hashtag


@dataclass(frozen=True)
class NoteValues:
    id: str
    url: str
    attributed_to: str
    content_html: str
    published: datetime
    to: list[str]
    cc: list[str]
    summary: str = ""
    sensitive: bool = False
    in_reply_to: str | None = None
    language: str | None = None
    updated: datetime | None = None
    mentions: list[Tag] = field(default_factory=list)
    hashtags: list[Tag] = field(default_factory=list)


def note(values: NoteValues, *, context: bool = True) -> dict[str, Any]:
    """A Note; embedded in a Create it carries no ``@context`` of its own."""
    doc: dict[str, Any] = {"@context": OBJECT_CONTEXT} if context else {}
    doc |= {
        "id": values.id,
        "type": "Note",
        "summary": values.summary or None,
        "inReplyTo": values.in_reply_to,
        "published": iso(values.published),
        "url": values.url,
        "attributedTo": values.attributed_to,
        "to": values.to,
        "cc": values.cc,
        "sensitive": values.sensitive,
        "content": values.content_html,
        "attachment": [],
        "tag": [{"type": "Mention", "href": t.href, "name": t.name} for t in values.mentions]
        + [{"type": "Hashtag", "href": t.href, "name": t.name} for t in values.hashtags],
    }
    if values.language:
        doc["contentMap"] = {values.language: values.content_html}
    if values.updated is not None:
        doc["updated"] = iso(values.updated)
    return doc


def tombstone(object_id: str) -> dict[str, Any]:
    return {"id": object_id, "type": "Tombstone"}


# --- activities ---------------------------------------------------------------------------


def activity(
    kind: str,
    activity_id: str,
    actor_id: str,
    obj: str | dict[str, Any],
    *,
    to: Iterable[str] = (),
    cc: Iterable[str] = (),
    published: datetime | None = None,
) -> dict[str, Any]:
    """Any activity: Create, Announce, Follow, Accept, Reject, Undo, Like, Delete, Update, Block."""
    doc: dict[str, Any] = {
        "@context": OBJECT_CONTEXT,
        "id": activity_id,
        "type": kind,
        "actor": actor_id,
    }
    if published is not None:
        doc["published"] = iso(published)
    to, cc = list(to), list(cc)
    if to:
        doc["to"] = to
    if cc:
        doc["cc"] = cc
    doc["object"] = _without_context(obj)
    return doc


def _without_context(obj: str | dict[str, Any]) -> str | dict[str, Any]:
    """Embedded objects drop their ``@context``: the activity's applies to them."""
    if isinstance(obj, dict):
        return {key: value for key, value in obj.items() if key != "@context"}
    return obj


# --- collections --------------------------------------------------------------------------


def ordered_collection(collection_id: str, total: int, first: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first is not None:
        doc["first"] = first
    else:
        doc["orderedItems"] = []
    return doc


def ordered_collection_page(
    page_id: str, part_of: str, items: list[Any], next_page: str | None, total: int | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": OBJECT_CONTEXT,
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "orderedItems": [_without_context(item) for item in items],
    }
    if total is not None:
        doc["totalItems"] = total
    if next_page is not None:
        doc["next"] = next_page
    return doc


def flag(activity_id: str, actor_id: str, objects: Sequence[str], content: str) -> dict[str, Any]:
    """A report, as Mastodon sends it: from the instance actor (the reporter stays unnamed),
    ``object`` the reported account followed by the reported posts, ``content`` the comment."""
    return {
        "@context": AS_CONTEXT,
        "id": activity_id,
        "type": "Flag",
        "actor": actor_id,
        "content": content,
        "object": list(objects),
    }
