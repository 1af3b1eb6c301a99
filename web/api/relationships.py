"""Follows, blocks and mutes in the Mastodon client API, and the lists they make.

Scopes as Mastodon's controllers ask them (the legacy "follow" scope and plain read/write
grant each, see services/scopes). Lists page on the row that links the accounts (the follow,
block or mute id), not on account ids: Mastodon's Link headers do the same.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator
from quart import Blueprint, Response, jsonify

from services import account_lists
from services import relationships as service
from services.account_lists import Listed
from services.accounts import get_account
from services.oauth import TokenContext
from services.relationships import Relationship
from web.api.auth import optional_reader, require_auth
from web.api.entities import iso, render_account
from web.api.pagination import PageParams, with_links
from web.api.params import params
from web.api.paths import snowflake_from_path
from web.deps import backends, settings

relationships = Blueprint("relationships", __name__)

ACCOUNTS_LIMIT = 40  # Mastodon's DEFAULT_ACCOUNTS_LIMIT; at most twice that


def render_relationship(rel: Relationship) -> dict[str, Any]:
    """Mastodon 4.2's Relationship entity (no per-follow languages, domain blocks,
    endorsements or notes here yet: they answer their empty values)."""
    return {
        "id": str(rel.id),
        "following": rel.following,
        "showing_reblogs": rel.showing_reblogs,
        "notifying": rel.notifying,
        "languages": None,
        "followed_by": rel.followed_by,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting,
        "muting_notifications": rel.muting_notifications,
        "requested": rel.requested,
        "requested_by": rel.requested_by,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


def _me(token: TokenContext) -> int:
    return token.account_id or 0


# --- actions on one account ---------------------------------------------------------------


class FollowParams(BaseModel):
    reblogs: bool | None = None
    notify: bool | None = None
    languages: list[str] | None = None  # accepted; not stored yet


class MuteParams(BaseModel):
    notifications: bool = True
    duration: int = Field(0, ge=0, le=2**31 - 1)  # seconds; 0 = indefinitely


@relationships.post("/api/v1/accounts/<raw_id>/follow")
@require_auth("write:follows")
@params(FollowParams)
async def follow(raw_id: str, token: TokenContext, params: FollowParams) -> dict[str, Any]:
    rel = await service.follow(
        backends(),
        _me(token),
        snowflake_from_path(raw_id),
        reblogs=params.reblogs,
        notify_posts=params.notify,
    )
    return render_relationship(rel)


@relationships.post("/api/v1/accounts/<raw_id>/unfollow")
@require_auth("write:follows")
async def unfollow(raw_id: str, token: TokenContext) -> dict[str, Any]:
    rel = await service.unfollow(backends(), _me(token), snowflake_from_path(raw_id))
    return render_relationship(rel)


@relationships.post("/api/v1/accounts/<raw_id>/block")
@require_auth("write:blocks")
async def block(raw_id: str, token: TokenContext) -> dict[str, Any]:
    rel = await service.block(backends(), _me(token), snowflake_from_path(raw_id))
    return render_relationship(rel)


@relationships.post("/api/v1/accounts/<raw_id>/unblock")
@require_auth("write:blocks")
async def unblock(raw_id: str, token: TokenContext) -> dict[str, Any]:
    rel = await service.unblock(backends(), _me(token), snowflake_from_path(raw_id))
    return render_relationship(rel)


@relationships.post("/api/v1/accounts/<raw_id>/mute")
@require_auth("write:mutes")
@params(MuteParams)
async def mute(raw_id: str, token: TokenContext, params: MuteParams) -> dict[str, Any]:
    rel = await service.mute(
        backends().redis,
        _me(token),
        snowflake_from_path(raw_id),
        notifications=params.notifications,
        duration=params.duration,
    )
    return render_relationship(rel)


@relationships.post("/api/v1/accounts/<raw_id>/unmute")
@require_auth("write:mutes")
async def unmute(raw_id: str, token: TokenContext) -> dict[str, Any]:
    return render_relationship(
        await service.unmute(backends().redis, _me(token), snowflake_from_path(raw_id))
    )


# --- relationships with many accounts -----------------------------------------------------


class RelationshipsParams(BaseModel):
    id: list[str] = []

    @field_validator("id", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


def _ids(raw: list[str]) -> list[int]:
    """Mastodon turns each id into a number and shows the accounts that exist: ids that are
    not numbers name nothing."""
    return [int(r) for r in raw if r.isascii() and r.isdigit() and len(r) <= 19]


@relationships.get("/api/v1/accounts/relationships")
@require_auth("read:follows")
@params(RelationshipsParams, query=True)
async def relationships_of(token: TokenContext, params: RelationshipsParams) -> Response:
    found = await service.relationships(_me(token), _ids(params.id))
    return jsonify([render_relationship(rel) for rel in found])


# --- lists --------------------------------------------------------------------------------


def _list_response(items: list[Listed], *, mutes: bool = False) -> Response:
    entities = []
    for item in items:
        entity = render_account(item.account, settings())
        if mutes:  # Mastodon's MutedAccount
            entity["mute_expires_at"] = iso(item.expires_at) if item.expires_at else None
        entities.append(entity)
    return with_links(jsonify(entities), account_lists.row_ids(items))


async def _list(
    kind: account_lists.Kind, owner_id: int, params: PageParams, viewer_id: int | None = None
) -> list[Listed]:
    page = params.page(ACCOUNTS_LIMIT, 2 * ACCOUNTS_LIMIT)
    return await account_lists.account_list(backends().redis, kind, owner_id, page, viewer_id)


@relationships.get("/api/v1/accounts/<raw_id>/followers")
@params(PageParams, query=True)
async def followers(raw_id: str, params: PageParams) -> Response:
    viewer = await optional_reader("read:accounts")
    account = await get_account(snowflake_from_path(raw_id))
    return _list_response(await _list("followers", account.id, params, viewer))


@relationships.get("/api/v1/accounts/<raw_id>/following")
@params(PageParams, query=True)
async def following(raw_id: str, params: PageParams) -> Response:
    viewer = await optional_reader("read:accounts")
    account = await get_account(snowflake_from_path(raw_id))
    return _list_response(await _list("following", account.id, params, viewer))


@relationships.get("/api/v1/follow_requests")
@require_auth("read:follows")
@params(PageParams, query=True)
async def follow_requests(token: TokenContext, params: PageParams) -> Response:
    return _list_response(await _list("requests", _me(token), params))


@relationships.post("/api/v1/follow_requests/<raw_id>/authorize")
@require_auth("write:follows")
async def authorize(raw_id: str, token: TokenContext) -> dict[str, Any]:
    rel = await service.authorize(backends(), _me(token), snowflake_from_path(raw_id))
    return render_relationship(rel)


@relationships.post("/api/v1/follow_requests/<raw_id>/reject")
@require_auth("write:follows")
async def reject(raw_id: str, token: TokenContext) -> dict[str, Any]:
    rel = await service.reject(backends(), _me(token), snowflake_from_path(raw_id))
    return render_relationship(rel)


@relationships.get("/api/v1/blocks")
@require_auth("read:blocks")
@params(PageParams, query=True)
async def blocks(token: TokenContext, params: PageParams) -> Response:
    return _list_response(await _list("blocks", _me(token), params))


@relationships.get("/api/v1/mutes")
@require_auth("read:mutes")
@params(PageParams, query=True)
async def mutes(token: TokenContext, params: PageParams) -> Response:
    return _list_response(await _list("mutes", _me(token), params), mutes=True)
