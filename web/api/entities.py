"""Mastodon API entities as plain dicts, in Mastodon's exact shapes.

Pure functions of model objects or cached snapshots (services/postcache) and settings: no
queries here, so a view loads what it needs first and rendering can never trigger a lazy
database round-trip.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from instance.config import Settings
from models.accounts import Account, Role, User
from models.oauth import AccessToken
from models.posts import Visibility
from services.activities import DEFAULT_AVATAR, DEFAULT_HEADER
from services.postcache import Snapshot
from services.statuses import Hydrated
from services.tags import TagView

# Mastodon's built-in roles: "everyone" has id -99 and no name; permissions are a bit field
# as a string (administrator = 1, invite_users = 1 << 16; moderators see reports and users).
_ROLES: dict[Role, dict[str, Any]] = {
    Role.USER: {"id": "-99", "name": "", "permissions": "65536", "color": "", "highlighted": False},
    Role.MODERATOR: {
        "id": "1",
        "name": "Moderator",
        "permissions": str(65536 | 4 | 8 | 16 | 256 | 1024),
        "color": "",
        "highlighted": True,
    },
    Role.ADMIN: {
        "id": "2",
        "name": "Admin",
        "permissions": str(65536 | 1),
        "color": "",
        "highlighted": True,
    },
}


def _when(moment: datetime | str) -> datetime:
    # Snapshots carry ISO strings; model objects carry datetimes.
    return datetime.fromisoformat(moment) if isinstance(moment, str) else moment


def iso(moment: datetime | str) -> str:
    """Mastodon's time format: UTC with milliseconds and a Z, e.g. 2026-11-25T10:00:00.000Z."""
    if isinstance(moment, str) and moment.endswith("Z") and len(moment) == 24:
        return moment  # snapshots store times in this format already
    moment = _when(moment)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_date(moment: datetime | date | str | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, str) and moment.endswith("Z"):
        return moment[:10]
    if isinstance(moment, str):
        moment = _when(moment)
    day = moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment
    return day.isoformat()


def _midnight(moment: datetime | str) -> datetime | str:
    # Mastodon shows only the day an account was created (privacy), as midnight UTC.
    if isinstance(moment, str) and moment.endswith("Z"):
        return f"{moment[:10]}T00:00:00.000Z"
    return _when(moment).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _asset(url: str, default: str, settings: Settings) -> str:
    return url or f"{settings.base_url}{default}"


ACCOUNT_FIELDS = (
    "id", "username", "domain", "display_name", "note", "uri", "url", "avatar_url", "header_url",
    "locked", "discoverable", "indexable", "bot", "followers_count", "following_count",
    "posts_count", "last_post_at", "created_at", "suspended_at",
)  # fmt: skip


def account_snapshot(account: Account) -> Snapshot:
    """The same dict services/postcache caches, from a model object."""
    return {name: getattr(account, name) for name in ACCOUNT_FIELDS}


def render_account(account: Account | Snapshot, settings: Settings) -> dict[str, Any]:
    """Mastodon's Account entity, from a model object or a cached snapshot."""
    a = account if isinstance(account, dict) else account_snapshot(account)
    avatar = _asset(a["avatar_url"], DEFAULT_AVATAR, settings)
    header = _asset(a["header_url"], DEFAULT_HEADER, settings)
    acct = a["username"] if a["domain"] is None else f"{a['username']}@{a['domain']}"
    return {
        "id": str(a["id"]),
        "username": a["username"],
        "acct": acct,
        "display_name": a["display_name"],
        "locked": a["locked"],
        "bot": a["bot"],
        "discoverable": a["discoverable"],
        "indexable": a["indexable"],
        "group": False,
        "created_at": iso(_midnight(a["created_at"])),
        "note": a["note"],
        "url": a["url"] or a["uri"],
        "uri": a["uri"],
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": a["followers_count"],
        "following_count": a["following_count"],
        "statuses_count": a["posts_count"],
        "last_status_at": iso_date(a["last_post_at"]),
        "hide_collections": False,
        "noindex": False,
        "emojis": [],
        "roles": [],
        "fields": [],
    }


def render_role(role: Role) -> dict[str, Any]:
    """Mastodon's Role entity."""
    return dict(_ROLES[role])


def render_credential_account(
    account: Account, user: User, settings: Settings, *, follow_requests_count: int = 0
) -> dict[str, Any]:
    """Mastodon's CredentialAccount: the Account, plus what only its owner sees."""
    entity = render_account(account, settings)
    entity["source"] = {
        "privacy": "public",
        "sensitive": False,
        "language": user.locale.split("-")[0].split("_")[0] or None,
        "note": account.note_source,
        "fields": [],
        "follow_requests_count": follow_requests_count,
        "indexable": account.indexable,
        "hide_collections": False,
        "discoverable": account.discoverable,
    }
    entity["role"] = render_role(Role(user.role))
    return entity


def render_token(raw_token: str, token: AccessToken) -> dict[str, Any]:
    """Mastodon's Token entity (Doorkeeper's token response): created_at is Unix seconds."""
    return {
        "access_token": raw_token,
        "token_type": "Bearer",
        "scope": token.scopes,
        "created_at": int(token.created_at.timestamp()),
    }


# Our storage names -> Mastodon's API names.
API_VISIBILITY = {
    Visibility.PUBLIC: "public",
    Visibility.UNLISTED: "unlisted",
    Visibility.FOLLOWERS: "private",
    Visibility.DIRECT: "direct",
}


def _mention(account: Snapshot) -> dict[str, str]:
    acct = (
        account["username"]
        if account["domain"] is None
        else (f"{account['username']}@{account['domain']}")
    )
    return {
        "id": str(account["id"]),
        "username": account["username"],
        "url": account["url"] or account["uri"],
        "acct": acct,
    }


def _account_entity(
    account_id: int, hydrated: Hydrated, settings: Settings, rendered: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    """Render each account once per response: a page often holds one author many times."""
    entity = rendered.get(account_id)
    if entity is None:
        entity = rendered[account_id] = render_account(hydrated.accounts[account_id], settings)
    return entity


# A Status's members that depend on its post alone, in four runs (see post_members).
Runs = tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]


def post_members(post: Snapshot, settings: Settings, *, wrapper: bool) -> Runs:
    """The members of a Status that depend on its post alone (and the instance), in the four
    runs that the account, the mentions, the boosted post and the viewer's flags separate
    (web/api/status_json serialises each run once per snapshot).
    ``wrapper``: a boost shown with its boosted post, whose own content is empty."""
    head = {
        "id": str(post["id"]),
        "uri": post["uri"],
        "url": post["url"] or post["uri"],
        "created_at": iso(post["created_at"]),
    }
    body = {
        "content": "" if wrapper else post["html"],
        "visibility": API_VISIBILITY[Visibility(post["visibility"])],
        "sensitive": post["sensitive"],
        "spoiler_text": post["spoiler_text"],
        "media_attachments": [],
        "application": None,
    }
    counts = {
        "tags": [{"name": t, "url": tag_url(t, settings)} for t in post["tags"]],
        "emojis": [],
        "reblogs_count": post["boosts_count"],
        "favourites_count": post["likes_count"],
        "replies_count": post["replies_count"],
        "in_reply_to_id": _str_or_none(post["in_reply_to_id"]),
        "in_reply_to_account_id": _str_or_none(post["in_reply_to_account_id"]),
    }
    tail = {
        "poll": None,
        "card": None,
        "language": post["language"],
        "text": None,
        "edited_at": iso(post["edited_at"]) if post["edited_at"] else None,
    }
    return head, body, counts, tail


def viewer_members(liked: bool, boosted: bool, own: bool) -> dict[str, Any]:
    """The Status members that end it, which depend on the viewer."""
    members: dict[str, Any] = {
        "favourited": liked,
        "reblogged": boosted,
        "muted": False,
        "bookmarked": False,
    }
    if own:  # Mastodon sends "pinned" only on the viewer's own posts
        members["pinned"] = False
    members["filtered"] = []
    return members


def _status_body(
    post: Snapshot,
    hydrated: Hydrated,
    settings: Settings,
    rendered: dict[int, dict[str, Any]],
    original: Snapshot | None,
) -> dict[str, Any]:
    viewer = hydrated.viewer
    head, body, counts, tail = post_members(post, settings, wrapper=original is not None)
    flagged = original if original is not None else post
    own = viewer.viewer_id is not None and post["author_id"] == viewer.viewer_id
    return {
        **head,
        "account": _account_entity(post["author_id"], hydrated, settings, rendered),
        **body,
        "mentions": mentions_of(post, hydrated),
        **counts,
        "reblog": None,
        **tail,
        **viewer_members(flagged["id"] in viewer.liked, flagged["id"] in viewer.boosted, own),
    }


def mentions_of(post: Snapshot, hydrated: Hydrated) -> list[dict[str, str]]:
    """The post's mentions of the accounts that were loaded with it."""
    accounts = hydrated.accounts
    return [_mention(accounts[m]) for m in post["mention_ids"] if m in accounts]


def _str_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)


def render_status(
    post: Snapshot,
    hydrated: Hydrated,
    settings: Settings,
    rendered: dict[int, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Mastodon's Status entity; a boost is a wrapper whose ``reblog`` is the boosted post.
    ``rendered`` shares account entities between the statuses of one response."""
    rendered = {} if rendered is None else rendered
    original = hydrated.originals.get(post["boost_of_id"]) if post["boost_of_id"] else None
    entity = _status_body(post, hydrated, settings, rendered, original)
    if original is not None:
        entity["reblog"] = render_status(original, hydrated, settings, rendered)
    return entity


def render_statuses(hydrated: Hydrated, settings: Settings) -> list[dict[str, Any]]:
    rendered: dict[int, dict[str, Any]] = {}
    return [render_status(post, hydrated, settings, rendered) for post in hydrated.posts]


def tag_url(name: str, settings: Settings) -> str:
    """The tag's page here: the ``url`` of Mastodon's Tag entity and of a status's tags."""
    return f"{settings.base_url}/tags/{quote(name)}"


def render_tag(tag: TagView, settings: Settings) -> dict[str, Any]:
    """Mastodon 4.2's Tag entity: counts and days as strings, as Mastodon sends them;
    ``following`` only for a signed-in viewer."""
    entity: dict[str, Any] = {
        "name": tag.name,
        "url": tag_url(tag.name, settings),
        "history": [
            {"day": str(day.day), "accounts": str(day.accounts), "uses": str(day.uses)}
            for day in tag.history
        ],
    }
    if tag.following is not None:
        entity["following"] = tag.following
    return entity
