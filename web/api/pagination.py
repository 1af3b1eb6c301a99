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


_BOUNDS = ("max_id", "since_id", "min_id")


def _link_base() -> str:
    """This request's URL without its bounds, ready for one more query argument."""
    kept = urlencode([(k, v) for k, v in request.args.items(multi=True) if k not in _BOUNDS])
    return f"{settings().base_url}{request.path}?{kept}{'&' if kept else ''}"


def with_links(response: Response, ids: Sequence[int]) -> Response:
    """``Link: <…?max_id=oldest>; rel="next", <…?min_id=newest>; rel="prev"`` (if any ids)."""
    if ids:
        base = _link_base()
        response.headers["Link"] = (
            f'<{base}max_id={ids[-1]}>; rel="next", <{base}min_id={ids[0]}>; rel="prev"'
        )
    return response
