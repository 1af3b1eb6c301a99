"""Paging parameters in and ``Link`` headers out, the way Mastodon clients expect them."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from pydantic import BaseModel, Field, field_validator
from quart import Response, request

from services.paging import Page, clamp_limit
from web.deps import settings


def _snowflake(value: object) -> object:
    # Mastodon ids are strings of digits; an empty value means "not given".
    if value in ("", None):
        return None
    return value


class PageParams(BaseModel):
    max_id: int | None = Field(None, ge=0, lt=2**63)
    since_id: int | None = Field(None, ge=0, lt=2**63)
    min_id: int | None = Field(None, ge=0, lt=2**63)
    limit: int | None = Field(None, ge=-(2**31), lt=2**31)

    _blank_ids = field_validator("max_id", "since_id", "min_id", "limit", mode="before")(_snowflake)

    def page(self, default_limit: int = 20, max_limit: int = 40) -> Page:
        return Page(
            max_id=self.max_id,
            since_id=self.since_id,
            min_id=self.min_id,
            limit=clamp_limit(self.limit, default_limit, max_limit),
        )


def _url(**bounds: int) -> str:
    args = [(key, value) for key, value in request.args.items(multi=True) if key not in _BOUNDS]
    args.extend((key, str(value)) for key, value in bounds.items())
    return f"{settings().base_url}{request.path}?{urlencode(args)}"


_BOUNDS = ("max_id", "since_id", "min_id")


def with_links(response: Response, ids: Sequence[int]) -> Response:
    """``Link: <…?max_id=oldest>; rel="next", <…?min_id=newest>; rel="prev"`` (if any ids)."""
    if ids:
        response.headers["Link"] = (
            f'<{_url(max_id=ids[-1])}>; rel="next", <{_url(min_id=ids[0])}>; rel="prev"'
        )
    return response
