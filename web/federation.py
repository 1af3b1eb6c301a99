"""ActivityPub for peers: actors, posts and their activities, outboxes, follower collections,
and the inboxes. Actor and post URLs negotiate on ``Accept``: AS2 JSON for peers, a page (or a
redirect to one) for browsers. Views stay thin: services/publish and services/inbox decide.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from quart import Blueprint, Response, redirect, request

from activitypub import render
from activitypub.errors import SignatureError
from activitypub.vocab import ACTIVITY_JSON, is_activity_json
from models.accounts import Account
from services import activities, inbox, metrics, publish
from services.remote.fetch import instance_actor
from services.remote.keys import verify_request
from web.api.paths import snowflake_from_path
from web.deps import backends, settings
from web.ui import post_page, profile_page

federation = Blueprint("federation", __name__)
log = logging.getLogger(__name__)

AS2_HEADERS = {"Content-Type": f"{ACTIVITY_JSON}; charset=utf-8", "Vary": "Accept"}


def wants_activity_json() -> bool:
    """A peer asking for ActivityStreams (Mastodon also answers JSON to ``application/json``)."""
    for part in request.headers.get("Accept", "").split(","):
        media = part.split(";", 1)[0].strip().lower()
        if is_activity_json(part) or media == "application/json":
            return True
    return False


def as2(document: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(document), status=status, headers=AS2_HEADERS)


def request_url() -> str:
    """The URL the peer addressed (our base URL: we may sit behind a proxy)."""
    query = request.query_string.decode()
    return f"{settings().base_url}{request.path}{'?' + query if query else ''}"


async def signed_viewer() -> int | None:
    """The account whose key signed this GET, if it is signed and the signature holds. A
    signature we cannot check (its key unreachable, say) makes the fetch anonymous, as on
    Mastodon outside its secure mode: public posts are still served, private ones are not."""
    if "signature" not in request.headers and "signature-input" not in request.headers:
        return None
    try:
        key = await verify_request(backends(), "GET", request_url(), request.headers, None)
    except SignatureError as exc:
        log.info("unverified signed fetch", extra={"path": request.path, "error": exc.message})
        return None
    return key.account_id


def _page_number(raw: str | None) -> int | None:
    return snowflake_from_path(raw) if raw else None


# --- actors -------------------------------------------------------------------------------


@federation.get("/users/<username>")
async def actor(username: str) -> Response:
    account = await publish.local_actor(username)
    if not wants_activity_json():
        return redirect(f"/@{account.username}")
    return as2(activities.actor_document(account, settings()))


@federation.get("/@<username>")
async def profile(username: str) -> Response:
    if not wants_activity_json():
        return await profile_page(username)  # also /@user@host: a remote account held here
    account = await publish.local_actor(username)
    return as2(activities.actor_document(account, settings()))


@federation.get("/actor")
async def instance_actor_document() -> Response:
    """The instance actor: signs our fetches; peers fetch it unsigned to check them."""
    account: Account = await instance_actor(settings())
    document = activities.actor_document(account, settings())
    document |= {"followers": None, "following": None, "featured": None}
    return as2({key: value for key, value in document.items() if value is not None})


# --- posts --------------------------------------------------------------------------------


async def _post(username: str, raw_id: str) -> tuple[Account, dict[str, Any]]:
    account = await publish.local_actor(username)
    viewer = await signed_viewer()
    post = await publish.visible_post(backends(), account, snowflake_from_path(raw_id), viewer)
    return account, post


@federation.get("/users/<username>/statuses/<raw_id>")
async def note(username: str, raw_id: str) -> Response:
    account, post = await _post(username, raw_id)
    if not wants_activity_json():
        return redirect(f"/@{account.username}/{post['id']}")
    return await _object(post, account)


async def _object(post: dict[str, Any], account: Account) -> Response:
    """A post as its Note; a boost (which has no Note of its own) as its Announce."""
    if post["boost_of_id"]:
        return as2(await publish.activity_document(backends(), post, account))
    return as2(await publish.note_document(backends(), post, account))


@federation.get("/@<username>/<raw_id>")
async def post(username: str, raw_id: str) -> Response:
    if not wants_activity_json():
        return await post_page(username, raw_id)  # for the browser's viewer, not a signer
    account, found = await _post(username, raw_id)
    return await _object(found, account)


@federation.get("/users/<username>/statuses/<raw_id>/activity")
async def post_activity(username: str, raw_id: str) -> Response:
    account, post = await _post(username, raw_id)
    return as2(await publish.activity_document(backends(), post, account))


# --- collections --------------------------------------------------------------------------


@federation.get("/users/<username>/outbox")
async def outbox(username: str) -> Response:
    account = await publish.local_actor(username)
    base = f"{account.outbox_uri}"
    if not request.args.get("page"):
        return as2(render.ordered_collection(base, account.posts_count, f"{base}?page=true"))
    max_id = _page_number(request.args.get("max_id"))
    items, next_max = await publish.outbox_page(backends(), account, max_id)
    page_id = request_url()
    next_page = f"{base}?page=true&max_id={next_max}" if next_max else None
    return as2(render.ordered_collection_page(page_id, base, items, next_page))


async def _follow_collection(kind: str, username: str) -> Response:
    account = await publish.local_actor(username)
    base = account.followers_uri if kind == "followers" else account.following_uri
    total = account.followers_count if kind == "followers" else account.following_count
    if not request.args.get("page"):
        return as2(render.ordered_collection(base, total, f"{base}?page=true"))
    max_id = _page_number(request.args.get("max_id"))
    items, next_max = await publish.collection_page(kind, account, max_id)
    next_page = f"{base}?page=true&max_id={next_max}" if next_max else None
    return as2(render.ordered_collection_page(request_url(), base, items, next_page, total))


@federation.get("/users/<username>/followers")
async def followers(username: str) -> Response:
    return await _follow_collection("followers", username)


@federation.get("/users/<username>/following")
async def following(username: str) -> Response:
    return await _follow_collection("following", username)


@federation.get("/users/<username>/collections/featured")
async def featured(username: str) -> Response:
    account = await publish.local_actor(username)
    return as2(render.ordered_collection(account.featured_uri, 0, None))


@federation.get("/actor/outbox")
async def instance_outbox() -> Response:
    return as2(render.ordered_collection(f"{settings().base_url}/actor/outbox", 0, None))


# --- inboxes ------------------------------------------------------------------------------


async def _receive() -> Response:
    body = await request.get_data()
    try:
        new = await inbox.receive(backends(), "POST", request_url(), request.headers, body)
    except Exception:  # counted, then answered by web/errors as always
        metrics.INBOX_RECEIVED.labels("rejected").inc()
        raise
    metrics.INBOX_RECEIVED.labels("accepted" if new else "duplicate").inc()
    return Response("", status=202)


@federation.post("/inbox")
async def shared_inbox() -> Response:
    return await _receive()


@federation.post("/actor/inbox")
async def instance_inbox() -> Response:
    return await _receive()


@federation.post("/users/<username>/inbox")
async def personal_inbox(username: str) -> Response:
    await publish.local_actor(username)  # 404 for nobody
    return await _receive()
