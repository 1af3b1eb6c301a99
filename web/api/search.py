"""Search in the Mastodon client API: ``/api/v2/search`` (and v1) and ``/api/v1/accounts/search``.

Mastodon's rules: without a token, accounts and hashtags are searched but not posts, and
neither ``offset`` nor ``resolve`` is allowed (401); ``offset`` counts only with a ``type``;
a query that is one ``user@host`` searches accounts alone; a URL with ``resolve`` answers what
it names instead of a search.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator
from quart import Blueprint

from services import search, tags
from services.errors import BadRequest, Unauthorized
from services.paging import clamp_limit
from services.postcache import Snapshot
from services.statuses import Hydrated, hydrate
from web.api.auth import optional_reader, require_auth
from web.api.entities import render_account, render_statuses, render_tag
from web.api.params import params
from web.deps import backends, settings

search_api = Blueprint("search", __name__)

TYPES = ("accounts", "statuses", "hashtags")
MAX_OFFSET = 10_000


def _blank(value: object) -> object:
    return None if value in ("", None) else value


class SearchParams(BaseModel):
    q: str | None = Field(None, max_length=2048)
    type: str | None = None
    resolve: bool = False
    following: bool = False
    account_id: int | None = Field(None, ge=0, lt=2**63)
    exclude_unreviewed: bool = False
    max_id: int | None = Field(None, ge=0, lt=2**63)
    min_id: int | None = Field(None, ge=0, lt=2**63)
    limit: int | None = Field(None, ge=-(2**31), lt=2**31)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)

    _blanks = field_validator("account_id", "max_id", "min_id", "limit", "type", mode="before")(
        _blank
    )


def _wants(params: SearchParams, kind: str) -> bool:
    return params.type in (None, kind)


async def _search(params: SearchParams, viewer: int | None, max_limit: int) -> dict[str, Any]:
    if params.q is None:
        raise BadRequest("Param is missing or the value is empty: q")
    if viewer is None and params.offset:
        raise Unauthorized("Search queries pagination is not supported without authentication")
    if viewer is None and params.resolve:
        raise Unauthorized(
            "Search queries that resolve remote resources are not supported without authentication"
        )
    text = params.q.strip()
    limit = clamp_limit(params.limit, 20, max_limit)
    offset = params.offset if params.type else 0
    results: dict[str, Any] = {"accounts": [], "statuses": [], "hashtags": []}
    if not text or params.type not in (None, *TYPES):
        return results
    if params.resolve and search.looks_like_url(text):
        return await _resolved(text, viewer, params) if offset == 0 else results
    b, s = backends(), settings()
    one_handle = search.looks_like_acct(text)
    if _wants(params, "accounts") and not text.startswith("#"):
        request = search.AccountSearch(
            text, limit, offset, following=params.following, resolve=params.resolve
        )
        found = await search.search_accounts(b, viewer, request)
        results["accounts"] = [render_account(a, s) for a in found]
    if _wants(params, "statuses") and viewer is not None and not one_handle:
        posts = search.PostSearch(
            text, limit, offset, params.account_id, params.max_id, params.min_id
        )
        results["statuses"] = render_statuses(await search.search_posts(b, viewer, posts), s)
    if _wants(params, "hashtags") and "@" not in text:
        found_tags = await tags.search_tags(
            text, limit, offset, exclude_unreviewed=params.exclude_unreviewed, viewer_id=viewer
        )
        results["hashtags"] = [render_tag(tag, s) for tag in found_tags]
    return results


async def _resolved(url: str, viewer: int | None, params: SearchParams) -> dict[str, Any]:
    b, s = backends(), settings()
    found = await search.resolve_url(b, url)
    results: dict[str, Any] = {"accounts": [], "statuses": [], "hashtags": []}
    if found.account_id is not None and _wants(params, "accounts"):
        accounts = await search.visible_accounts(b, viewer, [found.account_id])
        results["accounts"] = [render_account(a, s) for a in accounts]
    if found.post_id is not None and _wants(params, "statuses"):
        hydrated: Hydrated = await hydrate(b.redis, viewer, [found.post_id])
        results["statuses"] = render_statuses(hydrated, s)
    return results


@search_api.get("/api/v2/search")
@params(SearchParams, query=True)
async def search_v2(params: SearchParams) -> dict[str, Any]:
    return await _search(params, await optional_reader("read:search"), 40)


@search_api.get("/api/v1/search")
@params(SearchParams, query=True)
async def search_v1(params: SearchParams) -> dict[str, Any]:
    """Mastodon removed v1 in 3.0; old clients still call it. Hashtags were names there."""
    results = await _search(params, await optional_reader("read:search"), 40)
    results["hashtags"] = [tag["name"] for tag in results["hashtags"]]
    return results


class AccountSearchParams(BaseModel):
    q: str = Field(min_length=1, max_length=2048)
    limit: int | None = Field(None, ge=-(2**31), lt=2**31)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    resolve: bool = False
    following: bool = False

    _blanks = field_validator("limit", mode="before")(_blank)


@search_api.get("/api/v1/accounts/search")
@require_auth("read:accounts")
@params(AccountSearchParams, query=True)
async def accounts_search(token, params: AccountSearchParams) -> list[Snapshot]:  # type: ignore[no-untyped-def]
    request = search.AccountSearch(
        params.q,
        clamp_limit(params.limit, 40, 80),
        params.offset,
        following=params.following,
        resolve=params.resolve,
    )
    found = await search.search_accounts(backends(), token.account_id, request)
    return [render_account(account, settings()) for account in found]
