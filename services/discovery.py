"""Discovery documents about our accounts and the instance: WebFinger and NodeInfo values."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from activitypub import nodeinfo, webfinger
from instance.config import VERSION, Settings
from models.accounts import Account
from services import instance as instance_service
from services.errors import NotFound
from services.publish import local_actor
from services.remote.fetch import instance_actor, instance_actor_uri


async def _account_for(settings: Settings, resource: str) -> Account:
    """The local actor a WebFinger resource names: ``acct:user@our.domain``, its actor id or
    its profile URL; ``acct:our.domain@our.domain`` and ``/actor`` name the instance actor."""
    domain = settings.instance.domain.lower()
    acct = webfinger.parse_acct(resource) if not resource.startswith("http") else None
    if acct is not None:
        if acct.host != domain:
            raise NotFound("Record not found")
        if acct.username.lower() == domain:
            return await instance_actor(settings)
        return await local_actor(acct.username)
    base = settings.base_url
    if resource == instance_actor_uri(settings):
        return await instance_actor(settings)
    for prefix in (f"{base}/users/", f"{base}/@"):
        if resource.startswith(prefix) and "/" not in resource[len(prefix) :]:
            return await local_actor(resource[len(prefix) :])
    raise NotFound("Record not found")


async def finger(settings: Settings, resource: str) -> dict[str, Any]:
    account = await _account_for(settings, resource.strip())
    subject = f"acct:{account.username}@{settings.instance.domain}"
    return webfinger.jrd(subject, account.uri, account.url or account.uri)


async def nodeinfo_document(settings: Settings, redis: Redis, version: str) -> dict[str, Any]:
    if version not in nodeinfo.VERSIONS:
        raise NotFound("Record not found")
    info = await instance_service.instance_info(settings)
    stats = await instance_service.stats(redis)
    usage = nodeinfo.Usage(
        users_total=stats.user_count,
        active_month=stats.active_month,
        active_halfyear=stats.active_halfyear,
        local_posts=stats.status_count,
    )
    return nodeinfo.document(
        version,
        software_version=VERSION,
        # As Mastodon: sign-ups that wait for approval are still open to anyone.
        open_registrations=info.registration_mode is not instance_service.RegistrationMode.CLOSED,
        usage=usage,
        node_name=info.title,
        node_description=info.description,
    )
