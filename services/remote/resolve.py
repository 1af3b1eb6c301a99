"""What a URL pasted into search names: an account or a post, ours or another server's.

Our own URLs are read from their paths; a URL we already hold (an actor's or a post's id or
page) is answered from Postgres; anything else is fetched (signed, SSRF-guarded, within the
fetch budget) and stored by the same code that handles inbox deliveries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from activitypub.errors import FetchError, ParseError
from activitypub.parse import ACTOR_TYPES
from models.accounts import Account
from models.posts import Post
from services.backends import Backends
from services.remote.actors import fetch_actor
from services.remote.fetch import fetch_json, is_local_uri
from services.remote.notes import fetch_post

_LOCAL_POST = re.compile(r"^/(?:users/(?P<a>[\w]+)/statuses|@(?P<b>[\w]+))/(?P<id>\d{1,20})/?$")
_LOCAL_ACCOUNT = re.compile(r"^/(?:users/|@)(?P<name>[\w]+)/?$")


@dataclass(frozen=True)
class Resolved:
    account_id: int | None = None
    post_id: int | None = None


async def _local(backends: Backends, url: str) -> Resolved:
    path = url[len(backends.settings.base_url) :].split("?", 1)[0].split("#", 1)[0]
    if match := _LOCAL_POST.match(path):
        found = await Post.filter(id=int(match["id"]), deleted_at__isnull=True).exists()
        return Resolved(post_id=int(match["id"]) if found else None)
    if match := _LOCAL_ACCOUNT.match(path):
        ids = await Account.filter(acct=match["name"].lower(), domain__isnull=True).values_list(
            "id", flat=True
        )
        return Resolved(account_id=ids[0] if ids else None)
    return Resolved()


async def _known(url: str) -> Resolved | None:
    posts = await Post.filter(uri=url).values_list("id", flat=True) or await Post.filter(
        url=url
    ).values_list("id", flat=True)
    if posts:
        return Resolved(post_id=posts[0])
    accounts = await Account.filter(uri=url).values_list("id", flat=True) or await Account.filter(
        url=url
    ).values_list("id", flat=True)
    return Resolved(account_id=accounts[0]) if accounts else None


async def resolve_url(backends: Backends, url: str) -> Resolved:
    """The account or post at ``url``; an empty Resolved when it names neither."""
    if is_local_uri(backends.settings, url):
        return await _local(backends, url)
    known = await _known(url)
    if known is not None:
        return known
    try:
        document, _ = await fetch_json(backends, url)
    except FetchError:
        return Resolved()
    if not isinstance(document, dict) or not isinstance(document.get("id"), str):
        return Resolved()
    kind, object_id = document.get("type"), document["id"]
    try:
        if kind in ACTOR_TYPES:
            return Resolved(account_id=(await fetch_actor(backends, object_id)).id)
        post_id = await fetch_post(backends, object_id)
    except (FetchError, ParseError):
        return Resolved()
    return Resolved(post_id=post_id)
