"""Receiving activities: a POST to a personal or the shared inbox, checked and stored.

The order matters: cheap checks first (JSON, the activity's shape, a blocked domain, the
signature's freshness and digest), then the key (cached, or fetched once), then the signer
must own the activity's actor. An accepted activity is an ``InboxItem`` row before we answer
202 (deduplicated on its id: a peer's retry is accepted again and changes nothing; written by
services/inbox_store with whatever else is arriving); a worker applies it later
(services/inbound).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import timedelta

import orjson
from tortoise import connections
from tortoise.timezone import now

from activitypub import parse, proofs
from activitypub.errors import ParseError, SignatureError
from activitypub.parse import ParsedActivity
from models.accounts import Account
from services import domains, inbox_store, jobs
from services.backends import Backends
from services.errors import BadRequest, Forbidden
from services.remote.fetch import scrubbed
from services.remote.keys import verify_request

log = logging.getLogger(__name__)

PROCESS_JOB = inbox_store.PROCESS_JOB


def job_id(item_id: int, attempts: int = 0) -> str:
    return f"inbox:{item_id}:{attempts}"


def _activity(body: bytes) -> tuple[ParsedActivity, str]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("The request body is not valid JSON") from None
    if b"\\u0000" in body:
        document = scrubbed(document)
    activity = parse.parse_activity(document)  # ParseError -> 400
    if activity.id and domains.host_of(activity.id) != domains.host_of(activity.actor):
        # Mastodon's invalid_origin?: an id is its server's to give, or anyone could claim
        # (and so suppress) another server's activity ahead of it.
        raise ParseError("the activity's id is not on its actor's host")
    # Transient activities may come without an id: their body names them.
    activity_id = activity.id or f"urn:sha256:{hashlib.sha256(body).hexdigest()}"
    if len(activity_id) > 1024 or len(activity.type) > 64 or len(activity.actor) > 1024:
        raise ParseError("activity id, type or actor too long")
    return activity, activity_id


async def _gone_actor(activity: ParsedActivity) -> bool:
    """A Delete of an actor we never knew: servers send these by the thousand when an account
    goes; there is nothing of it here to delete, so we accept it without fetching its key."""
    if activity.type != "Delete" or activity.object_id != activity.actor:
        return False
    return not await Account.filter(uri=activity.actor).exists()


async def receive(
    backends: Backends, method: str, url: str, headers: Mapping[str, str], body: bytes
) -> bool:
    """Check and store one incoming activity; answers whether it was new. Raises BadRequest /
    ParseError (400), SignatureError (401) or Forbidden (403)."""
    activity, activity_id = _activity(body)
    host = domains.host_of(activity.actor)
    known = await domains.states(backends.redis)
    if host in known.blocked:
        raise Forbidden("This domain is blocked")
    if await _gone_actor(activity):
        return False
    key = await verify_request(backends, method, url, headers, body, known)
    if key.owner != activity.actor:
        raise SignatureError("the signing key does not belong to the activity's actor")
    await domains.record_success(backends.redis, host, known)  # it talks to us: it is reachable
    proof = await proof_status(activity, key.account_id)
    row = inbox_store.Row(activity_id, activity.type, activity.actor, key.key_id, proof,
                          _payload(activity, body))  # fmt: skip
    return await inbox_store.store(backends, row) is not None


async def proof_status(activity: ParsedActivity, account_id: int) -> str:
    """Check an embedded FEP-8b32 proof (Fedify sends them) with the actor's published key.
    It never decides: the HTTP signature already did. A bad one is logged and kept on record."""
    proof = proofs.proof_of(activity.raw)
    if proof is None:
        return ""
    keys = await Account.filter(id=account_id).values_list("proof_keys", flat=True)
    multibase = (keys[0] or {}).get(str(proof.get("verificationMethod"))) if keys else None
    if not multibase:
        return "unknown-key"
    try:
        public_key = proofs.multikey_to_ed25519(multibase)
    except proofs.ProofError:
        return "unknown-key"
    if proofs.verify_proof(activity.raw, proof, public_key):
        return "verified"
    log.warning("integrity proof does not verify", extra={"activity_id": activity.id})
    return "invalid"


def _payload(activity: ParsedActivity, body: bytes) -> str:
    """The activity as received; re-encoded only when it held NUL escapes, which jsonb refuses."""
    if b"\\u0000" in body:
        return orjson.dumps(activity.raw).decode()
    return body.decode()


_PENDING_SQL = """
SELECT id, attempts FROM inbox_items WHERE state = 'pending' AND created_at < $1
ORDER BY id LIMIT $2
"""
SWEEP_GRACE_SECONDS = 10
SWEEP_BATCH = 1000


async def sweep(backends: Backends) -> int:
    """Enqueue stored activities nobody is applying (Redis lost the job, a worker died)."""
    cutoff = now() - timedelta(seconds=SWEEP_GRACE_SECONDS)
    _, rows = await connections.get("default").execute_query(_PENDING_SQL, [cutoff, SWEEP_BATCH])
    batch = [jobs.Job(PROCESS_JOB, (r["id"],), job_id(r["id"], r["attempts"])) for r in rows]
    return sum(await jobs.enqueue_many(backends.queue, batch))


async def retry_later(backends: Backends, item_id: int, attempts: int, seconds: float) -> None:
    await backends.queue.enqueue_job(
        PROCESS_JOB, item_id, _job_id=job_id(item_id, attempts), _defer_by=seconds
    )
