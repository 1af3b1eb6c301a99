"""Finding the local things a received activity names: our accounts and the posts we hold."""

from __future__ import annotations

from models.accounts import USER_ACTOR_TYPES, Account
from models.posts import Post
from services.backends import Backends
from services.postcache import Snapshot, load_posts
from services.remote.fetch import is_local_uri


async def local_account(backends: Backends, uri: str | None) -> Account | None:
    """The local user an actor id names (not the instance actor), unsuspended."""
    if not uri or not is_local_uri(backends.settings, uri):
        return None
    return await Account.filter(
        uri=uri, domain__isnull=True, suspended_at__isnull=True, actor_type__in=USER_ACTOR_TYPES
    ).first()


async def post_by_uri(backends: Backends, uri: str | None) -> Snapshot | None:
    """The snapshot of a post (or boost) we hold, by its id."""
    if not uri:
        return None
    ids = await Post.filter(uri=uri).values_list("id", flat=True)
    if not ids:
        return None
    return (await load_posts(backends.redis, ids[:1])).get(ids[0])
