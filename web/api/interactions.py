"""Favourites and reblogs in the Mastodon client API, and who favourited or reblogged a status."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from quart import Blueprint, Response, jsonify

from services import interactions as service
from services.errors import NotFound
from services.oauth import TokenContext
from services.statuses import hydrate
from web.api.auth import current_token, require_auth
from web.api.entities import render_account, render_status
from web.api.pagination import PageParams, with_links
from web.api.params import params
from web.deps import backends, settings

interactions = Blueprint("interactions", __name__)

# Mastodon's DEFAULT_ACCOUNTS_LIMIT, and limit_param's ceiling of twice the default.
ACCOUNTS_LIMIT = 40
ACCOUNTS_MAX = 80


class ReblogParams(BaseModel):
    # Checked by the service after the post itself, so an unknown post is a 404, not a 422.
    visibility: str | None = None


def _post_id(raw: str) -> int:
    """A path id: anything but a positive snowflake-sized decimal names no post (404)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not 0 < int(raw) < 2**63:
        raise NotFound("Record not found")
    return int(raw)


async def _status(viewer_id: int | None, post_id: int) -> dict[str, Any]:
    """The Status entity of one post as the viewer sees it now."""
    hydrated = await hydrate(backends().redis, viewer_id, [post_id])
    if not hydrated.posts:
        raise NotFound("Record not found")
    return render_status(hydrated.posts[0], hydrated, settings())


@interactions.post("/api/v1/statuses/<status_id>/favourite")
@require_auth("write:favourites")
async def favourite(status_id: str, token: TokenContext) -> dict[str, Any]:
    """Answers the status asked for (a boost's wrapper mirrors its original's ``favourited``)."""
    post_id = _post_id(status_id)
    await service.like(backends(), token.account_id or 0, post_id)
    return await _status(token.account_id, post_id)


@interactions.post("/api/v1/statuses/<status_id>/unfavourite")
@require_auth("write:favourites")
async def unfavourite(status_id: str, token: TokenContext) -> dict[str, Any]:
    post_id = _post_id(status_id)
    await service.unlike(backends(), token.account_id or 0, post_id)
    return await _status(token.account_id, post_id)


@interactions.post("/api/v1/statuses/<status_id>/reblog")
@require_auth("write:statuses")
@params(ReblogParams)
async def reblog(status_id: str, token: TokenContext, params: ReblogParams) -> dict[str, Any]:
    """Answers the boost: a wrapper whose ``reblog`` is the original."""
    boost_id = await service.boost(
        backends(), token.account_id or 0, _post_id(status_id), params.visibility
    )
    return await _status(token.account_id, boost_id)


@interactions.post("/api/v1/statuses/<status_id>/unreblog")
@require_auth("write:statuses")
async def unreblog(status_id: str, token: TokenContext) -> dict[str, Any]:
    """Answers the original, no longer reblogged."""
    original_id = await service.unboost(backends(), token.account_id or 0, _post_id(status_id))
    return await _status(token.account_id, original_id)


@interactions.get("/api/v1/statuses/<status_id>/favourited_by")
@params(PageParams, query=True)
async def favourited_by(status_id: str, params: PageParams) -> Response:
    viewer_id = await _reader()
    page = params.page(ACCOUNTS_LIMIT, ACCOUNTS_MAX)
    found = await service.favourited_by(backends(), viewer_id, _post_id(status_id), page)
    return _accounts(found)


@interactions.get("/api/v1/statuses/<status_id>/reblogged_by")
@params(PageParams, query=True)
async def reblogged_by(status_id: str, params: PageParams) -> Response:
    viewer_id = await _reader()
    page = params.page(ACCOUNTS_LIMIT, ACCOUNTS_MAX)
    found = await service.reblogged_by(backends(), viewer_id, _post_id(status_id), page)
    return _accounts(found)


async def _reader() -> int | None:
    """Readable without a token (public posts); a token, if sent, must grant reading."""
    token = await current_token()
    if token is None:
        return None
    token.require("read:accounts")
    return token.account_id


def _accounts(found: service.AccountPage) -> Response:
    response = jsonify([render_account(account, settings()) for account in found.accounts])
    return with_links(response, found.ids)
