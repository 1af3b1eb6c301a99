"""Timelines in the Mastodon client API: home, public, and an account's posts."""

from __future__ import annotations

from pydantic import Field
from quart import Blueprint, Response

from services import timelines
from services.accounts import get_account
from services.statuses import Hydrated
from web.api.auth import current_token, require_auth
from web.api.pagination import PageParams, with_links
from web.api.params import params
from web.api.paths import snowflake_from_path
from web.api.status_json import statuses_json
from web.deps import backends, settings

timelines_api = Blueprint("timelines", __name__)


def page_response(hydrated: Hydrated) -> Response:
    """A page of statuses with its Link headers: every timeline answers this way."""
    # JSON text as the body (jsonify would decode it to str and encode it again), spliced from
    # parts serialised once per snapshot (web/api/status_json).
    response = Response(statuses_json(hydrated, settings()), content_type="application/json")
    return with_links(response, [post["id"] for post in hydrated.posts])


@timelines_api.get("/api/v1/timelines/home")
@require_auth("read:statuses")
@params(PageParams, query=True)
async def home(token, params: PageParams) -> Response:  # type: ignore[no-untyped-def]
    b = backends()
    hydrated = await timelines.read_home(b.redis, b.settings, token.account_id, params.page())
    return page_response(hydrated)


class PublicParams(PageParams):
    local: bool = False
    remote: bool = False
    only_media: bool = False


@timelines_api.get("/api/v1/timelines/public")
@params(PublicParams, query=True)
async def public(params: PublicParams) -> Response:
    token = await current_token()
    viewer = token.account_id if token else None
    if params.only_media or (params.remote and params.local):
        return page_response(Hydrated(posts=[]))  # no media yet; remote and local: nothing
    hydrated = await timelines.read_public(
        backends().redis, viewer, params.page(), local_only=params.local
    )
    if params.remote:
        hydrated.posts = [p for p in hydrated.posts if not p["local"]]
    return page_response(hydrated)


class AccountStatusesParams(PageParams):
    exclude_replies: bool = False
    exclude_reblogs: bool = False
    pinned: bool = False
    only_media: bool = False
    tagged: str | None = Field(None, max_length=255)


@timelines_api.get("/api/v1/accounts/<raw_id>/statuses")
@params(AccountStatusesParams, query=True)
async def account_statuses(raw_id: str, params: AccountStatusesParams) -> Response:
    account = await get_account(snowflake_from_path(raw_id))
    token = await current_token()
    if params.pinned or params.only_media:
        return page_response(Hydrated(posts=[]))  # no pins or media yet
    hydrated = await timelines.read_account(
        backends().redis,
        token.account_id if token else None,
        account.id,
        params.page(),
        exclude_replies=params.exclude_replies,
        exclude_boosts=params.exclude_reblogs,
        tagged=params.tagged,
    )
    return page_response(hydrated)
