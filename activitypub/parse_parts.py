"""The small parts of incoming ActivityStreams JSON, for ``activitypub.parse``.

Value forms first: JSON-LD compaction means a property may arrive as a string, an embedded
object or an array (Fedify collapses one-element arrays to the element), and type names may
carry an ``as:`` prefix; these helpers read every such form. Then the small parts built on
them: tags (mentions, hashtags, emojis), keys and profile fields, as frozen dataclasses that
``activitypub.parse`` re-exports. Nothing here raises on odd input: a value we cannot read is
``None``, ``""`` or left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from activitypub.vocab import PUBLIC, PUBLIC_ALIASES

JSON = dict[str, Any]

# Prefixes a compacted or expanded type name may carry ("as:Hashtag", "toot:Emoji").
_TYPE_PREFIXES = ("https://www.w3.org/ns/activitystreams#", "as:", "toot:")
_HTML = "text/html"


def as_list(value: object) -> list[object]:
    """A property as a list: absent or null is empty, a single value is a list of one."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _entry_id(entry: object) -> str | None:
    """The id of one entry: the string itself, or an embedded object's ``id``."""
    if isinstance(entry, str):
        return entry or None
    if isinstance(entry, dict):
        found = entry.get("id")
        return found if isinstance(found, str) and found else None
    return None


def own_id(data: JSON) -> str | None:
    """An object's own ``id`` when it is a non-empty string."""
    value = data.get("id")
    return value if isinstance(value, str) and value else None


def first_entry(value: object) -> str | JSON | None:
    """The first usable entry of a property: a non-empty string or an object (arrays only one
    level deep, so hostile nesting cannot recurse)."""
    for entry in as_list(value):
        if isinstance(entry, str) and entry:
            return entry
        if isinstance(entry, dict):
            return entry
    return None


def first_id(value: object) -> str | None:
    """An id from a string, an embedded object (its ``id``) or an array (the first entry that
    has one)."""
    for entry in as_list(value):
        found = _entry_id(entry)
        if found is not None:
            return found
    return None


def ids(value: object) -> tuple[str, ...]:
    """Every id in a property (strings or embedded objects), in order, without repeats."""
    found: list[str] = []
    for entry in as_list(value):
        address = _entry_id(entry)
        if address is not None and address not in found:
            found.append(address)
    return tuple(found)


def audience(value: object) -> tuple[str, ...]:
    """A to/cc-style value as a tuple of ids, with the public collection's short forms
    ("as:Public", "Public") normalised to ``vocab.PUBLIC``."""
    found: list[str] = []
    for address in ids(value):
        normal = PUBLIC if address in PUBLIC_ALIASES else address
        if normal not in found:
            found.append(normal)
    return tuple(found)


def is_http_url(value: object) -> bool:
    """Whether a value is an absolute http(s) URL with a host (what we accept as an id)."""
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def http_id(value: object) -> str | None:
    """The first id of a property if it is an http(s) URL, else None."""
    found = first_id(value)
    return found if is_http_url(found) else None


def type_names(value: object) -> tuple[str, ...]:
    """A ``type`` value (a string or an array) as bare names: "as:Hashtag" -> "Hashtag"."""
    names: list[str] = []
    for entry in as_list(value):
        if isinstance(entry, str) and entry:
            for prefix in _TYPE_PREFIXES:
                if entry.startswith(prefix):
                    entry = entry[len(prefix) :]
                    break
            names.append(entry)
    return tuple(names)


def has_type(entry: JSON, *names: str) -> bool:
    """Whether an object's ``type`` (string or array) names one of ``names``."""
    return any(name in names for name in type_names(entry.get("type")))


def text(value: object) -> str:
    """A string property, with null, absent and non-strings read as ""."""
    return value if isinstance(value, str) else ""


def natural_text(data: JSON, key: str) -> str:
    """``key`` if it is a string, else the first value of ``keyMap`` (a natural-language map),
    else ""."""
    value = data.get(key)
    if isinstance(value, str):
        return value
    mapping = data.get(key + "Map")
    if isinstance(mapping, dict):
        for entry in mapping.values():
            if isinstance(entry, str):
                return entry
    return ""


def flag(value: object, default: bool) -> bool:
    """A boolean property; anything but a JSON boolean (absent, null, "true") is ``default``."""
    return value if isinstance(value, bool) else default


def optional_flag(value: object) -> bool | None:
    """A boolean property where absent means "unknown" (Mastodon's ``indexable``)."""
    return value if isinstance(value, bool) else None


def parse_datetime(value: object) -> datetime | None:
    """An xsd:dateTime as a UTC datetime: with or without fractions, with "Z" or an offset
    (GoToSocial sends "+02:00"); no zone is read as UTC. Unparseable is None, never an error."""
    if not isinstance(value, str):
        return None
    stamp = value.strip()
    if stamp.endswith("z"):
        stamp = stamp[:-1] + "Z"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:00:00+01:00" has no UTC equivalent
        return None


def _link(entry: object) -> tuple[str, str | None] | None:
    """One ``url`` entry as (href, mediaType): a string, or a Link object's ``href``."""
    if isinstance(entry, str):
        return entry, None
    if isinstance(entry, dict):
        href = entry.get("href")
        media = entry.get("mediaType")
        if isinstance(href, str):
            return href, media if isinstance(media, str) else None
    return None


def link_url(value: object) -> str | None:
    """An object's ``url``: a string, a Link (``href``) or an array of either; an entry with
    mediaType text/html is preferred (PeerTube lists its video files too). http(s) only."""
    links = [link for link in map(_link, as_list(value)) if link and is_http_url(link[0])]
    for href, media in links:
        if media is not None and media.split(";", 1)[0].strip().lower() == _HTML:
            return href
    return links[0][0] if links else None


def image_url(value: object) -> str | None:
    """The address of an ``icon`` / ``image``: an Image whose ``url`` is a string, a Link or an
    array, an array of Images (the first usable one), or a bare URL string. http(s) only."""
    for entry in as_list(value):
        if isinstance(entry, str):
            found = entry if is_http_url(entry) else None
        elif isinstance(entry, dict):
            found = link_url(entry.get("url")) or link_url(entry.get("href"))
        else:
            found = None
        if found is not None:
            return found
    return None


# --- parts: tags, keys, profile fields ------------------------------------------------------


@dataclass(frozen=True)
class ParsedKey:
    id: str
    owner: str
    pem: str


@dataclass(frozen=True)
class ParsedMultikey:
    id: str
    controller: str
    multibase: str  # publicKeyMultibase, as given


@dataclass(frozen=True)
class ParsedField:
    name: str
    value: str  # raw HTML


@dataclass(frozen=True)
class ParsedMention:
    href: str
    name: str  # as given: "@bob@host" or "@bob" (Misskey, for its own users)


@dataclass(frozen=True)
class ParsedEmoji:
    name: str  # without colons
    icon_url: str | None


def tag_objects(value: object, *kinds: str) -> list[JSON]:
    """The entries of ``tag`` (an object or an array) of the given types; others are ignored."""
    entries = [entry for entry in as_list(value) if isinstance(entry, dict)]
    return [entry for entry in entries if has_type(entry, *kinds)]


def read_mentions(tags: object) -> tuple[ParsedMention, ...]:
    """Mention tags with a usable href (Misskey names its own users "@bob", without a host)."""
    found: dict[str, ParsedMention] = {}
    for entry in tag_objects(tags, "Mention"):
        href = entry.get("href")
        if is_http_url(href) and href not in found:
            found[href] = ParsedMention(href=href, name=text(entry.get("name")))
    return tuple(found.values())


def read_hashtags(tags: object) -> tuple[str, ...]:
    """Hashtag names as written, without the '#' most servers (not all) put in front."""
    found: list[str] = []
    for entry in tag_objects(tags, "Hashtag"):
        name = text(entry.get("name")).strip().lstrip("#")
        if name and name not in found:
            found.append(name)
    return tuple(found)


def read_emojis(tags: object) -> tuple[ParsedEmoji, ...]:
    """Custom emojis (toot:Emoji): ":blobcat:" -> "blobcat", with the icon's address."""
    found: dict[str, ParsedEmoji] = {}
    for entry in tag_objects(tags, "Emoji"):
        name = text(entry.get("name")).strip().strip(":")
        if name and name not in found:
            found[name] = ParsedEmoji(name=name, icon_url=image_url(entry.get("icon")))
    return tuple(found.values())


def read_keys(value: object, actor_id: str) -> tuple[ParsedKey, ...]:
    """``publicKey`` as an object or an array of objects; entries without an id or a PEM are
    skipped. A key embedded in the actor without ``owner`` belongs to that actor."""
    keys: list[ParsedKey] = []
    for entry in as_list(value):
        if not isinstance(entry, dict):
            continue  # a bare key id gives us no PEM
        key_id, pem = own_id(entry), entry.get("publicKeyPem")
        if key_id is None or not isinstance(pem, str) or not pem.strip():
            continue
        owner = first_id(entry.get("owner")) or actor_id
        keys.append(ParsedKey(id=key_id, owner=owner, pem=pem))
    return tuple(keys)


def read_multikeys(value: object, actor_id: str) -> tuple[ParsedMultikey, ...]:
    """FEP-521a ``assertionMethod`` Multikeys (Fedify, Mastodon >= 4.4), object or array."""
    keys: list[ParsedMultikey] = []
    for entry in as_list(value):
        if not isinstance(entry, dict) or not has_type(entry, "Multikey"):
            continue
        key_id, multibase = own_id(entry), entry.get("publicKeyMultibase")
        if key_id is None or not isinstance(multibase, str) or not multibase:
            continue
        controller = first_id(entry.get("controller")) or actor_id
        keys.append(ParsedMultikey(id=key_id, controller=controller, multibase=multibase))
    return tuple(keys)


def read_fields(value: object) -> tuple[ParsedField, ...]:
    """Profile fields: PropertyValue attachments (Fedify sends a single one as an object)."""
    fields: list[ParsedField] = []
    for entry in as_list(value):
        if isinstance(entry, dict) and has_type(entry, "PropertyValue"):
            name, field_value = entry.get("name"), entry.get("value")
            if isinstance(name, str) and isinstance(field_value, str):
                fields.append(ParsedField(name=name, value=field_value))
    return tuple(fields)
