"""Incoming ActivityStreams JSON -> frozen dataclasses, as real servers send it.

Liberal in what we accept (every value form Mastodon, GoToSocial, Misskey, Pleroma/Akkoma and
Fedify send, read from their compacted JSON; no JSON-LD expansion), strict only where the
document is unusable: not an object, no ``id`` where one is needed, no ``type``, an actor
without ``inbox``, a post without ``attributedTo``, ids that are not absolute http(s) URLs.
Those raise :class:`ParseError` naming the field. No I/O, no HTML sanitising: HTML fields are
raw, and the caller cleans them with nh3.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from activitypub.errors import ParseError
from activitypub.parse_parts import (
    JSON,
    ParsedEmoji,
    ParsedField,
    ParsedKey,
    ParsedMention,
    ParsedMultikey,
    as_list,
    audience,
    first_entry,
    first_id,
    flag,
    http_id,
    ids,
    image_url,
    is_http_url,
    link_url,
    natural_text,
    optional_flag,
    own_id,
    parse_datetime,
    read_emojis,
    read_fields,
    read_hashtags,
    read_keys,
    read_mentions,
    read_multikeys,
    type_names,
)
from activitypub.vocab import PUBLIC, PUBLIC_ALIASES, is_public

__all__ = [
    "ACTOR_TYPES",
    "POST_TYPES",
    "ParsedActivity",
    "ParsedActor",
    "ParsedEmoji",
    "ParsedField",
    "ParsedKey",
    "ParsedMention",
    "ParsedMultikey",
    "ParsedNote",
    "audience",
    "first_id",
    "parse_activity",
    "parse_actor",
    "parse_collection_page",
    "parse_note",
    "visibility",
]

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
BOT_TYPES = frozenset({"Service", "Application"})
# Mastodon turns all of these into statuses; Article's `name` is its title.
POST_TYPES = frozenset({"Note", "Article", "Page", "Question", "Event", "Video", "Image", "Audio"})
REACTION_TYPES = frozenset({"Like", "EmojiReact"})


@dataclass(frozen=True)
class ParsedActor:
    id: str
    type: str
    username: str  # preferredUsername
    name: str
    summary: str  # raw HTML
    url: str | None
    inbox: str
    outbox: str | None
    shared_inbox: str | None
    followers: str | None
    following: str | None
    featured: str | None
    keys: tuple[ParsedKey, ...]
    multikeys: tuple[ParsedMultikey, ...]
    locked: bool  # manuallyApprovesFollowers
    discoverable: bool
    indexable: bool | None
    bot: bool  # type Service or Application
    icon_url: str | None
    image_url: str | None
    published: datetime | None
    moved_to: str | None
    also_known_as: tuple[str, ...]
    fields: tuple[ParsedField, ...]
    featured_tags: str | None = None  # Mastodon's featuredTags collection
    emojis: tuple[ParsedEmoji, ...] = ()  # custom emojis used in name and summary


@dataclass(frozen=True)
class ParsedNote:
    id: str
    type: str
    attributed_to: str
    content: str  # raw HTML
    language: str | None
    name: str
    summary: str
    sensitive: bool
    published: datetime | None
    updated: datetime | None
    url: str | None
    in_reply_to: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    mentions: tuple[ParsedMention, ...]
    hashtags: tuple[str, ...]  # without '#', as written
    emojis: tuple[ParsedEmoji, ...]
    attachments: tuple[dict[str, Any], ...]  # raw attachment objects
    bto: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    conversation: str | None = None  # Pleroma's `context`, Mastodon's `conversation`


@dataclass(frozen=True)
class ParsedActivity:
    id: str | None
    type: str
    actor: str
    object_id: str | None  # the object's id, sent as a string or embedded
    object: dict[str, Any] | None  # the embedded object, when one was sent
    target: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    published: datetime | None
    raw: dict[str, Any]  # the activity as received
    bto: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    reaction: str | None = None  # Misskey's `_misskey_reaction` / an EmojiReact's `content`


# --- refusals -----------------------------------------------------------------------------


def _show(value: object) -> str:
    """A short repr of a bad value for an error message."""
    shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _as_object(data: object, what: str) -> JSON:
    """``data`` if it is a JSON object (a dict); anything else is not a document we can read."""
    if not isinstance(data, dict):
        raise ParseError(f"{what} is not a JSON object")
    return data


def _required_url(value: str | None, what: str, field: str) -> str:
    """``value`` if it is an absolute http(s) URL; ParseError naming the field otherwise."""
    if value is None:
        raise ParseError(f"{what} has no '{field}'")
    if not is_http_url(value):
        raise ParseError(f"{what} '{field}' is not an absolute http(s) URL: {_show(value)}")
    return value


def _type_of(data: JSON, what: str, allowed: frozenset[str] | None = None) -> str:
    """The object's type (the first allowed one when ``type`` is an array)."""
    names = type_names(data.get("type"))
    if not names:
        raise ParseError(f"{what} has no 'type'")
    if allowed is None:
        return names[0]
    for name in names:
        if name in allowed:
            return name
    raise ParseError(f"{what} 'type' {_show(names[0])} is not one of {', '.join(sorted(allowed))}")


# --- actors ---------------------------------------------------------------------------------


def _username(actor: JSON) -> str:
    """``preferredUsername``: WebFinger and mentions need it, so an actor without one is refused."""
    username = actor.get("preferredUsername")
    if not isinstance(username, str) or not username.strip():
        raise ParseError("actor has no 'preferredUsername'")
    return username


def _shared_inbox(actor: JSON) -> str | None:
    """``endpoints.sharedInbox``; Misskey also puts ``sharedInbox`` on the actor itself, and
    Fedify before 2.1 types the endpoints object ("as:Endpoints"), which changes nothing here."""
    endpoints = actor.get("endpoints")
    if isinstance(endpoints, dict):
        found = http_id(endpoints.get("sharedInbox"))
        if found is not None:
            return found
    return http_id(actor.get("sharedInbox"))


def parse_actor(data: object) -> ParsedActor:
    """An actor document (Person, Service, Application, Group, Organization)."""
    actor = _as_object(data, "actor")
    actor_id = _required_url(own_id(actor), "actor", "id")
    kind = _type_of(actor, "actor", ACTOR_TYPES)
    inbox = _required_url(first_id(actor.get("inbox")), "actor", "inbox")
    return ParsedActor(
        id=actor_id,
        type=kind,
        username=_username(actor),
        name=natural_text(actor, "name"),
        summary=natural_text(actor, "summary"),
        url=link_url(actor.get("url")),
        inbox=inbox,
        outbox=http_id(actor.get("outbox")),
        shared_inbox=_shared_inbox(actor),
        followers=http_id(actor.get("followers")),
        following=http_id(actor.get("following")),
        featured=http_id(actor.get("featured")),
        keys=read_keys(actor.get("publicKey"), actor_id),
        multikeys=read_multikeys(actor.get("assertionMethod"), actor_id),
        locked=flag(actor.get("manuallyApprovesFollowers"), False),
        discoverable=flag(actor.get("discoverable"), False),  # absent: not discoverable
        indexable=optional_flag(actor.get("indexable")),
        bot=kind in BOT_TYPES,
        icon_url=image_url(actor.get("icon")),
        image_url=image_url(actor.get("image")),
        published=parse_datetime(actor.get("published")),
        moved_to=http_id(actor.get("movedTo")),
        also_known_as=tuple(a for a in ids(actor.get("alsoKnownAs")) if is_http_url(a)),
        fields=read_fields(actor.get("attachment")),
        featured_tags=http_id(actor.get("featuredTags")),
        emojis=read_emojis(actor.get("tag")),
    )


# --- posts ----------------------------------------------------------------------------------


def _attributed_to(value: object) -> str | None:
    """The author: an id, an embedded actor, or an array (PeerTube lists the account and its
    channel) where an entry typed as an actor wins over the others."""
    for entry in as_list(value):
        if isinstance(entry, dict) and ACTOR_TYPES.intersection(type_names(entry.get("type"))):
            found = first_id(entry)
            if found is not None:
                return found
    return first_id(value)


def _content(note: JSON) -> tuple[str, str | None]:
    """(content, language): ``content``, else the first ``contentMap`` value; the language is
    the contentMap key whose value is the content, else the first key, else None."""
    mapping = note.get("contentMap")
    entries = [
        (key, value)
        for key, value in (mapping.items() if isinstance(mapping, dict) else ())
        if isinstance(key, str) and isinstance(value, str)
    ]
    content = note.get("content")
    if not isinstance(content, str):
        content = entries[0][1] if entries else ""
    language = next((key for key, value in entries if value == content), None)
    if language is None and entries:
        language = entries[0][0]
    # "und" (undetermined) is what Pleroma's context declares: no language at all.
    return content, language if language and language != "und" else None


def _conversation(note: JSON) -> str | None:
    """Pleroma's ``context`` (a URL) or Mastodon's ostatus ``conversation`` (a tag: URI)."""
    for key in ("context", "conversation"):
        value = note.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def parse_note(data: object) -> ParsedNote:
    """A post object (Note, Article, Page, Question, Event, Video, Image, Audio)."""
    note = _as_object(data, "note")
    note_id = _required_url(own_id(note), "note", "id")
    kind = _type_of(note, "note", POST_TYPES)
    author = _required_url(_attributed_to(note.get("attributedTo")), "note", "attributedTo")
    content, language = _content(note)
    tags = note.get("tag")
    return ParsedNote(
        id=note_id,
        type=kind,
        attributed_to=author,
        content=content,
        language=language,
        name=natural_text(note, "name"),
        summary=natural_text(note, "summary"),
        sensitive=flag(note.get("sensitive"), False),
        published=parse_datetime(note.get("published")),
        updated=parse_datetime(note.get("updated")),
        url=link_url(note.get("url")),
        # Pleroma and Misskey may embed the parent object instead of naming it.
        in_reply_to=http_id(note.get("inReplyTo")),
        to=audience(note.get("to")),
        cc=audience(note.get("cc")),
        mentions=read_mentions(tags),
        hashtags=read_hashtags(tags),
        emojis=read_emojis(tags),
        attachments=tuple(a for a in as_list(note.get("attachment")) if isinstance(a, dict)),
        bto=audience(note.get("bto")),
        bcc=audience(note.get("bcc")),
        audience=audience(note.get("audience")),
        conversation=_conversation(note),
    )


# --- activities -----------------------------------------------------------------------------


def _activity_id(activity: JSON) -> str | None:
    """The activity's id; absent is allowed (GoToSocial's Delete, transient activities), but
    one that is present must be an http(s) URL."""
    value = activity.get("id")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError(f"activity 'id' is not a string: {_show(value)}")
    return _required_url(value, "activity", "id")


def _object_id(entry: str | JSON | None) -> str | None:
    """The object's id; the public collection (a relay Follow's object) in its canonical form,
    since Fedify compacts it to "as:Public"."""
    if entry is None:
        return None
    found = entry if isinstance(entry, str) else own_id(entry)
    if found is None:
        return None
    if found in PUBLIC_ALIASES:
        return PUBLIC
    return _required_url(found, "activity", "object")


def _reaction(activity: JSON, kind: str) -> str | None:
    """A Like's emoji (Misskey's ``_misskey_reaction``, mirrored in ``content``) or an
    EmojiReact's ``content`` (Pleroma, Akkoma)."""
    if kind not in REACTION_TYPES:
        return None
    for key in ("_misskey_reaction", "content"):
        value = activity.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def parse_activity(data: object) -> ParsedActivity:
    """An activity: its actor, its object (an id, or embedded: both are kept), its addressing."""
    activity = _as_object(data, "activity")
    kind = _type_of(activity, "activity")
    activity_id = _activity_id(activity)
    actor = _required_url(first_id(activity.get("actor")), "activity", "actor")
    entry = first_entry(activity.get("object"))
    return ParsedActivity(
        id=activity_id,
        type=kind,
        actor=actor,
        object_id=_object_id(entry),
        object=entry if isinstance(entry, dict) else None,
        target=http_id(activity.get("target")),
        to=audience(activity.get("to")),
        cc=audience(activity.get("cc")),
        published=parse_datetime(activity.get("published")),
        raw=activity,
        bto=audience(activity.get("bto")),
        bcc=audience(activity.get("bcc")),
        audience=audience(activity.get("audience")),
        reaction=_reaction(activity, kind),
    )


# --- collections ----------------------------------------------------------------------------


def _items(page: JSON) -> list[object]:
    """``orderedItems`` (or ``items``) of a collection or a page, as a list."""
    value = page.get("orderedItems")
    if value is None:
        value = page.get("items")
    return [item for item in as_list(value) if item is not None]


def parse_collection_page(data: object) -> tuple[list[object], str | None]:
    """(items, next page id) of a collection or a collection page.

    A collection whose ``first`` page is embedded (Mastodon's replies, Pleroma's followers)
    gives that page's items and ``next``; one whose ``first`` is an id (GoToSocial, Mastodon's
    outbox) gives its own items, usually none, and ``first`` as the page to fetch next.
    Items are returned as sent (ids or objects): read them with ``first_id`` or the parsers.
    """
    collection = _as_object(data, "collection")
    first = collection.get("first")
    if isinstance(first, dict):
        return _items(first), http_id(first.get("next"))
    if first is not None:
        return _items(collection), http_id(first)
    return _items(collection), http_id(collection.get("next"))


# --- visibility -----------------------------------------------------------------------------


def visibility(to: Collection[str], cc: Collection[str], followers_uri: str | None) -> str:
    """A post's visibility from its addressing, the way Mastodon decides it
    (``ActivityPub::Activity::Create#visibility_from_audience``):

    - "public": the public collection (any of its forms) is in ``to``;
    - "unlisted": it is in ``cc`` only;
    - "followers": the author's followers collection is addressed. Mastodon looks in ``to``
      only; we also accept ``cc``: addressed to followers without Public is followers-only
      wherever the collection is listed;
    - "direct": anything else (only named actors). With no known followers URI a post without
      Public is read as "direct", the more private reading.
    """
    if any(is_public(address) for address in to):
        return "public"
    if any(is_public(address) for address in cc):
        return "unlisted"
    if followers_uri is not None and (followers_uri in to or followers_uri in cc):
        return "followers"
    return "direct"
