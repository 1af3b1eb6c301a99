"""Verifying signed requests from other servers: find the key, check the signature.

Keys live on the signer's Account (``public_key_id``, ``public_key``) and in a short
in-process cache, so a busy inbox verifies without a query. An unknown key is fetched (signed
GET); a signature that fails with a known key re-fetches it once (key rotation), at most once
a minute per key, so bad signatures cannot make us fetch without bound.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from activitypub import parse, signatures
from activitypub.errors import FetchError, ParseError, SignatureError
from activitypub.signatures import RequestSignature
from models.accounts import Account
from services.backends import Backends
from services.domains import States, host_of, states
from services.errors import Forbidden
from services.remote.actors import fetch_actor, upsert_actor
from services.remote.fetch import fetch_json, is_local_uri

CACHE_SECONDS = 300.0
CACHE_SIZE = 10_000
REFETCH_KEY = "key:refetch:{}"
REFETCH_SECONDS = 60


@dataclass(frozen=True)
class Key:
    key_id: str
    pem: str
    owner: str  # the actor id that owns the key
    account_id: int


_cache: dict[str, tuple[float, Key]] = {}


def forget_cached_keys() -> None:
    _cache.clear()


def _remember(key: Key) -> Key:
    if len(_cache) >= CACHE_SIZE:
        _cache.clear()  # crude, bounded; a full cache refills from the index in one query each
    _cache[key.key_id] = (time.monotonic() + CACHE_SECONDS, key)
    return key


def _key_of(account: Account) -> Key:
    return Key(account.public_key_id, account.public_key, account.uri, account.id)


async def _stored_key(key_id: str) -> Key | None:
    cached = _cache.get(key_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    account = await Account.filter(public_key_id=key_id, suspended_at__isnull=True).first()
    if account is None or not account.public_key:
        return None
    return _remember(_key_of(account))


async def _fetched_key(backends: Backends, key_id: str) -> Key:
    """Fetch the document behind a key id: an actor (Mastodon: ``actor#main-key``) or a key
    object whose owner is then fetched (GoToSocial: ``actor/main-key``)."""
    if is_local_uri(backends.settings, key_id):
        raise SignatureError("unknown local key")
    document, final_url = await fetch_json(backends, key_id)
    if isinstance(document, dict) and "inbox" in document:
        actor = parse.parse_actor(document)
        # Only the key's own server may tell us who owns it: an actor document naming an id
        # on another host would otherwise replace that account's key and inbox.
        if not host_of(actor.id) == host_of(final_url) == host_of(key_id):
            raise SignatureError("the key's actor document names an actor on another host")
        account = await upsert_actor(backends, actor)
    elif isinstance(document, dict) and isinstance(document.get("owner"), str):
        owner = str(document["owner"])
        if host_of(owner) != host_of(key_id):
            raise SignatureError("key owner is on another host")
        account = await fetch_actor(backends, owner)
    else:
        raise SignatureError(f"{key_id} is neither an actor nor a key")
    if account.public_key_id != key_id:
        raise SignatureError("the key's owner does not publish this key")
    return _remember(_key_of(account))


async def key_for(backends: Backends, key_id: str) -> Key:
    stored = await _stored_key(key_id)
    if stored is not None:
        return stored
    try:
        return await _fetched_key(backends, key_id)
    except (FetchError, ParseError) as exc:
        raise SignatureError(f"could not fetch key {key_id}: {exc.message}") from None


async def _rotated_key(backends: Backends, key_id: str) -> Key | None:
    """Re-fetch a key whose signature failed, at most once a minute per key."""
    allowed = await backends.redis.set(REFETCH_KEY.format(key_id), "1", nx=True, ex=REFETCH_SECONDS)
    if not allowed:
        return None
    _cache.pop(key_id, None)
    try:
        return await _fetched_key(backends, key_id)
    except (FetchError, ParseError):
        return None


async def verify_request(
    backends: Backends,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    known: States | None = None,
) -> Key:
    """The key that signed this request (SignatureError if none does; Forbidden for a blocked
    domain; ``known``: domain states the caller already read). Freshness and digest are
    checked before any key is fetched."""
    signature: RequestSignature = signatures.read_signature(method, url, headers)
    signatures.check_request(signature, method, headers, body)
    known = known or await states(backends.redis)
    if host_of(signature.key_id) in known.blocked:
        raise Forbidden("This domain is blocked")
    key = await key_for(backends, signature.key_id)
    try:
        signatures.verify_signature(signature, key.pem)
    except SignatureError:
        rotated = await _rotated_key(backends, signature.key_id)
        if rotated is None:
            raise
        signatures.verify_signature(signature, rotated.pem)
        key = rotated
    return key
