"""Remote actors as Account rows: fetched by id or found through WebFinger, refreshed when stale.

An actor document is trusted only for its own host: its ``id`` must live on the host that
served it (after redirects), and only keys it owns are kept, as Mastodon checks.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.timezone import now

from activitypub import parse, webfinger
from activitypub.errors import FetchError, ParseError
from activitypub.parse import ParsedActor
from models.accounts import Account
from services import text
from services.accounts import lookup_account
from services.backends import Backends
from services.domain_block_effects import marks_for_new_account
from services.domains import host_of
from services.errors import NotFound
from services.postcache import forget_accounts
from services.remote.fetch import fetch_json, is_local_uri

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(days=1)
JRD_ACCEPT = "application/jrd+json, application/json"  # what Mastodon asks WebFinger for
MAX_URI = 1024
MAX_NAME = 255


def _fits(value: str | None) -> str:
    return value if value and len(value) <= MAX_URI else ""


def _account_values(actor: ParsedActor, domain: str) -> dict[str, object]:
    key = next((k for k in actor.keys if k.owner == actor.id), None)
    return {
        "username": actor.username[:MAX_NAME],
        "domain": domain,
        "acct": f"{actor.username}@{domain}".lower()[:512],
        "display_name": actor.name[:MAX_NAME],  # plain text, as Mastodon reads it
        "note": text.sanitise_remote(actor.summary),
        "url": _fits(actor.url) or actor.id,
        "inbox_uri": _fits(actor.inbox),
        "shared_inbox_uri": _fits(actor.shared_inbox),
        "outbox_uri": _fits(actor.outbox),
        "followers_uri": _fits(actor.followers),
        "following_uri": _fits(actor.following),
        "featured_uri": _fits(actor.featured),
        "public_key_id": _fits(key.id) if key else "",
        "public_key": key.pem if key else "",
        "proof_keys": {k.id: k.multibase for k in actor.multikeys if k.controller == actor.id},
        "avatar_url": _fits(actor.icon_url),
        "header_url": _fits(actor.image_url),
        "locked": actor.locked,
        "discoverable": actor.discoverable,
        # Mastodon reads a missing "indexable" as "no": such posts are not searchable by all.
        "indexable": bool(actor.indexable),
        "bot": actor.bot,
        "actor_type": actor.type[:32],
        "moved_to_uri": _fits(actor.moved_to) or None,
        "fetched_at": now(),
    }


async def upsert_actor(
    backends: Backends, actor: ParsedActor, domain: str | None = None
) -> Account:
    """Create or refresh the Account of a fetched actor (``domain``: its WebFinger domain)."""
    if len(actor.id) > MAX_URI or not actor.inbox:
        raise ParseError("actor id or inbox unusable")
    values = _account_values(actor, domain or host_of(actor.id))
    account = await Account.filter(uri=actor.id).first()
    if account is None:
        await _free_acct(str(values["acct"]), actor.id)
        marks = await marks_for_new_account(backends.redis, str(values["domain"]))
        try:
            return await Account.create(uri=actor.id, **values, **marks)
        except IntegrityError:
            account = await Account.filter(uri=actor.id).first()  # a concurrent fetch won
            if account is None:
                raise
    if account.domain is None:
        raise ParseError("a remote document claims a local actor")
    await _free_acct(str(values["acct"]), actor.id)
    await Account.filter(id=account.id).update(**values)
    await forget_accounts(backends.redis, [account.id])
    await account.refresh_from_db()
    return account


async def _free_acct(acct: str, uri: str) -> None:
    """An acct now names another actor (the old one moved or was re-created): rename the old
    row so the name is free; its posts and follows stay where they are."""
    stale = await Account.filter(acct=acct).exclude(uri=uri).first()
    if stale is not None:
        await Account.filter(id=stale.id).update(acct=f"{acct}#{stale.id}"[:512])


async def fetch_actor(backends: Backends, uri: str, domain: str | None = None) -> Account:
    """Fetch an actor document and store it (``domain``: its confirmed WebFinger domain)."""
    return await upsert_actor(backends, await _fetch_parsed(backends, uri), domain)


async def _fetch_parsed(backends: Backends, uri: str) -> ParsedActor:
    """An actor document, believed only for its own host: its id must be on the host that
    served it; if it names another id than we asked for, that id is fetched once and must agree."""
    document, final_url = await fetch_json(backends, uri)
    actor = parse.parse_actor(document)
    if host_of(actor.id) != host_of(final_url):
        raise ParseError(f"actor {actor.id} was served by another host")
    if actor.id not in (uri, final_url):
        document, final_url = await fetch_json(backends, actor.id)
        again = parse.parse_actor(document)
        if again.id != actor.id or host_of(again.id) != host_of(final_url):
            raise ParseError(f"actor {uri} does not name itself consistently")
        actor = again
    return actor


async def account_by_uri(backends: Backends, uri: str, *, fetch: bool = True) -> Account | None:
    """The account with this actor id: known, else fetched (unless ``fetch`` is False)."""
    uri = uri.split("#", 1)[0]
    account = await Account.filter(uri=uri).first()
    if account is not None or not fetch or is_local_uri(backends.settings, uri):
        return account
    return await fetch_actor(backends, uri)


def is_stale(account: Account) -> bool:
    return account.domain is not None and (
        account.fetched_at is None or account.fetched_at < now() - STALE_AFTER
    )


async def refresh(backends: Backends, account: Account) -> Account:
    """Re-fetch a remote actor (profile, keys, inboxes); keep what we had if that fails."""
    try:
        return await fetch_actor(backends, account.uri, account.domain)
    except (FetchError, ParseError) as exc:
        log.info("actor refresh failed", extra={"actor": account.uri, "error": exc.message})
        return account


async def _finger(backends: Backends, acct: webfinger.Acct) -> webfinger.Finger:
    """WebFinger over https; over http too when the settings allow plain-http peers."""
    schemes = ["https", "http"] if backends.settings.federation.allow_http else ["https"]
    last: FetchError | None = None
    for scheme in schemes:
        try:
            url = webfinger.lookup_url(acct, scheme)
            document, _ = await fetch_json(backends, url, accept=JRD_ACCEPT)
            return webfinger.parse_jrd(document)
        except FetchError as exc:
            last = exc
            if exc.status is not None:
                break  # the server answered: another scheme will not change its mind
    raise last or FetchError("WebFinger failed")


async def _handle_domain(
    backends: Backends, actor: ParsedActor, claimed: webfinger.Acct
) -> str | None:
    """The domain of the actor's handle, as Mastodon's check_webfinger! decides it: the
    claimed one when it is the actor's own host, or when the actor's own server agrees (split
    domains); else the actor's host. None when the name does not belong to this actor."""
    actor_host = host_of(actor.id)
    if claimed.host == actor_host:
        return actor_host if claimed.username.lower() == actor.username.lower() else None
    try:
        home = await _finger(backends, webfinger.Acct(actor.username, actor_host))
    except (FetchError, ParseError):
        return actor_host
    if home.actor_id != actor.id:
        return actor_host
    subject = home.subject
    return claimed.host if subject is not None and subject.host == claimed.host else actor_host


async def resolve_acct(backends: Backends, acct: webfinger.Acct) -> Account:
    """``user@host`` -> its Account, through WebFinger and the actor document when unknown or
    stale. NotFound when the name does not resolve. A server cannot give another server's
    actor its own domain: the handle's domain is confirmed with the actor's home server."""
    known = await Account.filter(acct=str(acct).lower()).first()
    if known is not None and not is_stale(known):
        return known
    try:
        finger = await _finger(backends, acct)
        actor = await _fetch_parsed(backends, finger.actor_id)
        domain = await _handle_domain(backends, actor, finger.subject or acct)
        if domain is None:
            raise ParseError(f"{acct} names an actor by another name")
        account = await upsert_actor(backends, actor, domain)
    except (FetchError, ParseError) as exc:
        log.info("could not resolve", extra={"acct": str(acct), "error": exc.message})
        if known is not None:
            return known
        raise NotFound("Record not found") from None
    if account.acct != str(acct).lower():
        log.info("resolved to another name", extra={"asked": str(acct), "acct": account.acct})
    return account


REFRESH_JOB = "refresh_actor"


async def lookup(backends: Backends, text_acct: str) -> Account:
    """Mastodon's account lookup: ``user`` or ``user@our.domain`` is local; a known
    ``user@host`` answers at once (refreshed in the background when stale); an unknown one
    resolves through WebFinger. NotFound when nobody answers to the name."""
    try:
        account = await lookup_account(text_acct, backends.settings)
    except NotFound:
        acct = webfinger.parse_acct(text_acct)
        if acct is None or acct.host == backends.settings.instance.domain.lower():
            raise
        return await resolve_acct(backends, acct)
    if is_stale(account):
        await backends.queue.enqueue_job(REFRESH_JOB, account.id, _job_id=f"refresh:{account.id}")
    return account
