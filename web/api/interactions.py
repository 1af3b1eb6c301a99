"""Favourites and reblogs in the Mastodon client API, and who favourited or reblogged a status."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from quart import Blueprint, Response, jsonify

from services import interactions as service
from services import interactors
from services.oauth import TokenContext
from web.api.auth import optional_reader, require_auth
from web.api.entities import render_account
from web.api.pagination import PageParams, with_links
from web.api.params import params
from web.api.paths import snowflake_from_path
from web.api.status_view import status_entity
from web.deps import backends, settings

interactions = Blueprint("interactions", __name__)

# Mastodon's DEFAULT_ACCOUNTS_LIMIT, and limit_param's ceiling of twice the default.
ACCOUNTS_LIMIT = 40
ACCOUNTS_MAX = 80


class ReblogParams(BaseModel):
    # Checked by the service after the post itself, so an unknown post is a 404, not a 422.
    visibility: str | None = None


@interactions.post("/api/v1/statuses/<status_id>/favourite")
@require_auth("write:favourites")
async def favourite(status_id: str, token: TokenContext) -> dict[str, Any]:
    """Answers the status asked for (a boost's wrapper mirrors its original's ``favourited``)."""
    post_id = snowflake_from_path(status_id)
    await service.like(backends(), token.account_id or 0, post_id)
    return await status_entity(token.account_id, post_id)


@interactions.post("/api/v1/statuses/<status_id>/unfavourite")
@require_auth("write:favourites")
async def unfavourite(status_id: str, token: TokenContext) -> dict[str, Any]:
    post_id = snowflake_from_path(status_id)
    await service.unlike(backends(), token.account_id or 0, post_id)
    return await status_entity(token.account_id, post_id)


@interactions.post("/api/v1/statuses/<status_id>/reblog")
@require_auth("write:statuses")
@params(ReblogParams)
async def reblog(status_id: str, token: TokenContext, params: ReblogParams) -> dict[str, Any]:
    """Answers the boost: a wrapper whose ``reblog`` is the original."""
    boost_id = await service.boost(
        backends(), token.account_id or 0, snowflake_from_path(status_id), params.visibility
    )
    return await status_entity(token.account_id, boost_id)


@interactions.post("/api/v1/statuses/<status_id>/unreblog")
@require_auth("write:statuses")
async def unreblog(status_id: str, token: TokenContext) -> dict[str, Any]:
    """Answers the original, no longer reblogged."""
    original_id = await service.unboost(
        backends(), token.account_id or 0, snowflake_from_path(status_id)
    )
    return await status_entity(token.account_id, original_id)


@interactions.get("/api/v1/statuses/<status_id>/favourited_by")
@params(PageParams, query=True)
async def favourited_by(status_id: str, params: PageParams) -> Response:
    viewer_id = await optional_reader("read:accounts")
    page = params.page(ACCOUNTS_LIMIT, ACCOUNTS_MAX)
    found = await interactors.favourited_by(
        backends(), viewer_id, snowflake_from_path(status_id), page
    )
    return _accounts(found)


@interactions.get("/api/v1/statuses/<status_id>/reblogged_by")
@params(PageParams, query=True)
async def reblogged_by(status_id: str, params: PageParams) -> Response:
    viewer_id = await optional_reader("read:accounts")
    page = params.page(ACCOUNTS_LIMIT, ACCOUNTS_MAX)
    found = await interactors.reblogged_by(
        backends(), viewer_id, snowflake_from_path(status_id), page
    )
    return _accounts(found)


def _accounts(found: interactors.AccountPage) -> Response:
    response = jsonify([render_account(account, settings()) for account in found.accounts])
    return with_links(response, found.ids)
