"""Hashtags in the Mastodon client API: a tag, following it, the tags one follows, and the
hashtag timeline.

Scopes as Mastodon's controllers ask them: showing a tag and its timeline need no token (one
sent must be valid, and a signed-in viewer sees ``following`` and has blocks and mutes
applied); following needs ``write:follows``, the list ``read:follows``.
"""

from __future__ import annotations

from typing import Any

from pydantic import field_validator
from quart import Blueprint, Response, jsonify

from services import tags
from services.oauth import TokenContext
from services.statuses import Hydrated
from web.api.auth import current_token, require_auth
from web.api.entities import render_tag
from web.api.pagination import PageParams, with_links
from web.api.params import params
from web.api.timelines import page_response
from web.deps import backends, settings

tags_api = Blueprint("tags", __name__)

FOLLOWED_TAGS_LIMIT = 100  # Mastodon's FollowedTagsController::TAGS_LIMIT; at most twice that


async def _viewer() -> int | None:
    token = await current_token()
    return token.account_id if token else None


def _me(token: TokenContext) -> int:
    return token.account_id or 0


@tags_api.get("/api/v1/tags/<name>")
async def show(name: str) -> dict[str, Any]:
    return render_tag(await tags.show_tag(name, await _viewer()), settings())


@tags_api.post("/api/v1/tags/<name>/follow")
@require_auth("write:follows")
async def follow(name: str, token: TokenContext) -> dict[str, Any]:
    return render_tag(await tags.follow_tag(_me(token), name), settings())


@tags_api.post("/api/v1/tags/<name>/unfollow")
@require_auth("write:follows")
async def unfollow(name: str, token: TokenContext) -> dict[str, Any]:
    return render_tag(await tags.unfollow_tag(_me(token), name), settings())


@tags_api.get("/api/v1/followed_tags")
@require_auth("read:follows")
@params(PageParams, query=True)
async def followed(token: TokenContext, params: PageParams) -> Response:
    page = params.page(FOLLOWED_TAGS_LIMIT, 2 * FOLLOWED_TAGS_LIMIT)
    listed = await tags.followed_tags(_me(token), page)
    response = jsonify([render_tag(item.tag, settings()) for item in listed])
    return with_links(response, [item.follow_id for item in listed])


def _one_or_many(value: object) -> object:
    # Mastodon reads any[]=a&any[]=b and any=a alike (Rails' Array(params[:any])).
    return [value] if isinstance(value, str) else value


class TagTimelineParams(PageParams):
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    local: bool = False
    remote: bool = False
    only_media: bool = False

    _listed = field_validator("any", "all", "none", mode="before")(_one_or_many)


@tags_api.get("/api/v1/timelines/tag/<hashtag>")
@params(TagTimelineParams, query=True)
async def timeline(hashtag: str, params: TagTimelineParams) -> Response:
    if params.only_media:
        return page_response(Hydrated(posts=[]))  # no media stored yet
    lists = {"any_of": params.any, "all_of": params.all, "none_of": params.none}
    wanted = tags.TagFilter(**lists, local=params.local, remote=params.remote)
    hydrated = await tags.read_tag_timeline(
        backends().redis, await _viewer(), hashtag, params.page(), wanted
    )
    return page_response(hydrated)
