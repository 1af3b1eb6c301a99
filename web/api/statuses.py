"""Statuses in the Mastodon client API: post, show, delete, and the thread around one."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, field_validator
from quart import Blueprint, request

from models.posts import Visibility
from services import deletion, posting, threads
from services.errors import NotFound, ValidationFailed
from services.oauth import TokenContext
from services.statuses import hydrate
from web.api.auth import optional_reader, require_auth
from web.api.entities import API_VISIBILITY, render_status
from web.api.params import params
from web.api.paths import snowflake_from_path
from web.api.status_view import status_entity
from web.deps import backends, settings

statuses = Blueprint("statuses", __name__)

# Mastodon's API names -> our storage names ("private" is followers-only).
VISIBILITY_FROM_API = {name: visibility for visibility, name in API_VISIBILITY.items()}


class CreateStatusParams(BaseModel):
    """``POST /api/v1/statuses``; media, polls and scheduling are refused until we have them."""

    status: str = ""
    visibility: str | None = None
    in_reply_to_id: str | None = None
    spoiler_text: str = ""
    sensitive: bool | None = None
    language: str | None = None
    media_ids: list[str] = []
    poll: dict[str, Any] | None = None
    scheduled_at: str | None = None

    @field_validator("in_reply_to_id", "visibility", "language", "scheduled_at", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        # Forms send every field; Mastodon treats an empty one as not given.
        if isinstance(value, str) and not value.strip():
            return None
        return str(value) if isinstance(value, int) else value

    @field_validator("status", "spoiler_text", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value


def _unsupported(params: CreateStatusParams) -> None:
    for present, what in (
        (params.media_ids, "Media attachments are"),
        (params.poll, "Polls are"),
        (params.scheduled_at, "Scheduled posts are"),
    ):
        if present:
            raise ValidationFailed(f"{what} not supported yet")


def _visibility(raw: str | None) -> Visibility | None:
    if raw is None:
        return None
    if raw not in VISIBILITY_FROM_API:
        raise ValidationFailed(
            "Validation failed: Visibility is not included in the list",
            {"visibility": [{"error": "ERR_INCLUSION", "description": "is not included"}]},
        )
    return VISIBILITY_FROM_API[raw]


def _reply_target(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return snowflake_from_path(raw.strip())
    except NotFound:
        raise NotFound(posting.REPLY_NOT_FOUND) from None


@statuses.post("/api/v1/statuses")
@require_auth("write:statuses")
@params(CreateStatusParams)
async def create(token: TokenContext, params: CreateStatusParams) -> dict[str, Any]:
    _unsupported(params)
    new = posting.NewPost(
        text=params.status,
        visibility=_visibility(params.visibility),
        in_reply_to_id=_reply_target(params.in_reply_to_id),
        spoiler_text=params.spoiler_text,
        sensitive=params.sensitive,
        language=params.language,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    written = await posting.write_post(backends(), token.account_id or 0, new)
    if written.hydrated is None:  # an earlier post with the same Idempotency-Key
        return await status_entity(token.account_id, written.id)
    return render_status(written.hydrated.posts[0], written.hydrated, settings())


@statuses.get("/api/v1/statuses/<status_id>")
async def show(status_id: str) -> dict[str, Any]:
    post_id = snowflake_from_path(status_id)
    return await status_entity(await optional_reader("read:statuses"), post_id)


@statuses.delete("/api/v1/statuses/<status_id>")
@require_auth("write:statuses")
async def delete(status_id: str, token: TokenContext) -> dict[str, Any]:
    """Answers the deleted status with its source ``text``: Mastodon's delete-and-redraft."""
    post_id = snowflake_from_path(status_id)
    before = await deletion.delete_post(backends(), token.account_id or 0, post_id)
    post = before.posts[0]
    entity = render_status(post, before, settings())
    entity["text"] = post["text"]
    return entity


@statuses.get("/api/v1/statuses/<status_id>/context")
async def context(status_id: str) -> dict[str, Any]:
    post_id = snowflake_from_path(status_id)
    viewer = await optional_reader("read:statuses")
    ancestors, descendants = await threads.thread(backends(), viewer, post_id)
    hydrated = await hydrate(backends().redis, viewer, [*ancestors, *descendants])
    rendered = {post["id"]: render_status(post, hydrated, settings()) for post in hydrated.posts}
    return {
        "ancestors": [rendered[i] for i in ancestors if i in rendered],
        "descendants": [rendered[i] for i in descendants if i in rendered],
    }
