"""Fetching remote documents: signed by the instance actor, within a per-domain budget.

GoToSocial always, and Mastodon in authorized-fetch mode, answer only signed GETs; we sign
every fetch with the instance actor (``/actor``), Mastodon's way of fetching on nobody's behalf.
One remote server cannot make us fetch without bound: each domain has a budget per minute.
"""

from __future__ import annotations

import asyncio
import logging

from tortoise.exceptions import IntegrityError

from activitypub.errors import FetchError
from activitypub.keys import generate_key_pair
from activitypub.signatures import HttpSigner
from activitypub.vocab import ACCEPT
from instance.config import Settings
from models.accounts import Account
from services import rediscluster
from services.backends import Backends
from services.domains import host_of, is_blocked

log = logging.getLogger(__name__)

BUDGET_KEY = "fetch:budget:{}"
INSTANCE_ACTOR_PATH = "/actor"

_instance_actors: dict[str, Account] = {}
_creating = asyncio.Lock()


def forget_instance_actor() -> None:
    """Drop the cached instance actor (tests that empty the database call this)."""
    _instance_actors.clear()


def instance_actor_uri(settings: Settings) -> str:
    return f"{settings.base_url}{INSTANCE_ACTOR_PATH}"


async def instance_actor(settings: Settings) -> Account:
    """The instance's own actor (an Application named after the domain, as Mastodon's), made
    with its key pair on first use; several processes racing to make it agree on one row."""
    uri = instance_actor_uri(settings)
    cached = _instance_actors.get(uri)
    if cached is not None:
        return cached
    async with _creating:
        account = await Account.filter(uri=uri).first()
        if account is None:
            account = await _create_instance_actor(settings, uri)
        _instance_actors[uri] = account
        return account


async def _create_instance_actor(settings: Settings, uri: str) -> Account:
    keys = await asyncio.to_thread(generate_key_pair)
    domain = settings.instance.domain
    try:
        return await Account.create(
            username=domain,
            domain=None,
            acct=domain.lower(),
            uri=uri,
            url=f"{settings.base_url}/about",
            actor_type="Application",
            inbox_uri=f"{uri}/inbox",
            shared_inbox_uri=f"{settings.base_url}/inbox",
            outbox_uri=f"{uri}/outbox",
            public_key_id=f"{uri}#main-key",
            public_key=keys.public_pem,
            private_key=keys.private_pem,
            locked=True,
            discoverable=False,
            indexable=False,
            bot=True,
        )
    except IntegrityError:
        return await Account.get(uri=uri)  # another process made it first


def is_local_uri(settings: Settings, uri: str) -> bool:
    return uri.startswith(f"{settings.base_url}/")


async def spend_budget(backends: Backends, host: str) -> None:
    """Count one fetch against the domain's budget; FetchError (retry later) when it is spent."""
    key = BUDGET_KEY.format(host)
    async with rediscluster.pipeline(backends.redis, atomic=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, 60, nx=True)  # NX: an expiry lost (cluster: no MULTI) is set next time
        used, _ = await pipe.execute()
    if used > backends.settings.federation.fetch_budget_per_minute:
        raise FetchError(f"fetch budget for {host} is spent for this minute", retryable=True)


def scrubbed(document: object) -> object:
    """A peer's JSON without NUL characters: PostgreSQL can store them neither in text nor in
    jsonb, and no post or name needs one."""
    if isinstance(document, str):
        return document.replace("\x00", "") if "\x00" in document else document
    if isinstance(document, dict):
        return {scrubbed(key): scrubbed(value) for key, value in document.items()}
    if isinstance(document, list):
        return [scrubbed(item) for item in document]
    return document


async def fetch_json(backends: Backends, url: str, accept: str = ACCEPT) -> tuple[object, str]:
    """A remote ActivityStreams (or other JSON) document and the URL it was finally served from."""
    host = host_of(url)
    if await is_blocked(backends.redis, host):
        raise FetchError(f"{host} is blocked", retryable=False)
    await spend_budget(backends, host)
    actor = await instance_actor(backends.settings)
    signer = HttpSigner(actor.public_key_id, actor.private_key or "")
    document, final_url = await backends.http.get_json(url, accept=accept, auth=signer)
    return scrubbed(document), final_url
