"""Mastodon's admin API for domain blocks, and the public list of them.

``/api/v1/admin/domain_blocks`` (list, show, create, update, delete) for moderators and admins
with the ``admin:read:domain_blocks`` / ``admin:write:domain_blocks`` scopes;
``/api/v1/instance/domain_blocks`` for everyone (Mastodon's DomainBlock entity).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import BaseModel, Field, field_validator
from quart import Blueprint, Response, jsonify

from services import domain_blocks as service
from services.domain_blocks import AlreadyBlocked, BlockSpec, DomainBlock, Severity
from services.moderation import Moderator
from web.api.entities import iso
from web.api.pagination import PageParams, with_links
from web.api.params import params
from web.api.paths import snowflake_from_path
from web.api.staff import require_staff
from web.deps import backends

admin_domain_blocks = Blueprint("admin_domain_blocks", __name__)

LIMIT, MAX_LIMIT = 100, 200  # Mastodon's Admin::DomainBlocksController


def render_admin_domain_block(block: DomainBlock) -> dict[str, Any]:
    """Mastodon's Admin::DomainBlock entity."""
    return {
        "id": str(block.id),
        "domain": block.domain,
        "digest": block.digest,
        "created_at": iso(block.created_at) if block.created_at else None,  # type: ignore[arg-type]
        "severity": block.severity.value,
        "reject_media": block.reject_media,
        "reject_reports": block.reject_reports,
        "private_comment": block.private_comment or None,
        "public_comment": block.public_comment or None,
        "obfuscate": block.obfuscate,
    }


def render_public_domain_block(block: DomainBlock) -> dict[str, Any]:
    """Mastodon's DomainBlock entity, as /api/v1/instance/domain_blocks lists it."""
    return {
        "domain": block.public_domain,
        "digest": block.digest,
        "severity": block.severity.value,
        "comment": block.public_comment or None,
    }


def _none_to_blank(value: object) -> object:
    return "" if value is None else value


class BlockChanges(BaseModel):
    """The fields of PUT; POST adds ``domain``. Unsent fields keep their value."""

    severity: Severity | None = None
    reject_media: bool | None = None
    reject_reports: bool | None = None
    private_comment: str | None = Field(None, max_length=service.MAX_COMMENT)
    public_comment: str | None = Field(None, max_length=service.MAX_COMMENT)
    obfuscate: bool | None = None

    _blank_severity = field_validator("severity", mode="before")(
        lambda value: None if value == "" else value
    )

    def applied_to(self, spec: BlockSpec) -> BlockSpec:
        changes = {key: value for key, value in self.model_dump().items() if value is not None}
        changes.pop("domain", None)
        return replace(spec, **changes)


class NewBlock(BlockChanges):
    domain: str = Field(min_length=1, max_length=255)


# Mastodon.py asks for the list and posts new blocks with a trailing "/".
@admin_domain_blocks.get("/api/v1/admin/domain_blocks", strict_slashes=False)
@require_staff("admin:read:domain_blocks")
@params(PageParams, query=True)
async def index(staff: Moderator, params: PageParams) -> Response:
    found = await service.page_blocks(params.page(LIMIT, MAX_LIMIT))
    response = jsonify([render_admin_domain_block(block) for block in found])
    return with_links(response, [block.id for block in found])


@admin_domain_blocks.get("/api/v1/admin/domain_blocks/<raw_id>")
@require_staff("admin:read:domain_blocks")
async def show(raw_id: str, staff: Moderator) -> dict[str, Any]:
    return render_admin_domain_block(await service.get_block(snowflake_from_path(raw_id)))


@admin_domain_blocks.post("/api/v1/admin/domain_blocks", strict_slashes=False)
@require_staff("admin:write:domain_blocks")
@params(NewBlock)
async def create(staff: Moderator, params: NewBlock) -> Response | dict[str, Any]:
    try:
        made = await service.block(backends(), params.domain, params.applied_to(BlockSpec()))
    except AlreadyBlocked as exc:
        response = jsonify(
            {"error": exc.message, "existing_domain_block": render_admin_domain_block(exc.existing)}
        )
        response.status_code = 422
        return response
    return render_admin_domain_block(made)


@admin_domain_blocks.put("/api/v1/admin/domain_blocks/<raw_id>")
@require_staff("admin:write:domain_blocks")
@params(BlockChanges)
async def update(raw_id: str, staff: Moderator, params: BlockChanges) -> dict[str, Any]:
    current = await service.get_block(snowflake_from_path(raw_id))
    changed = await service.update(backends(), current.id, params.applied_to(current.spec))
    return render_admin_domain_block(changed)


@admin_domain_blocks.delete("/api/v1/admin/domain_blocks/<raw_id>")
@require_staff("admin:write:domain_blocks")
async def delete(raw_id: str, staff: Moderator) -> dict[str, Any]:
    await service.unblock(backends(), snowflake_from_path(raw_id))
    return {}


@admin_domain_blocks.get("/api/v1/instance/domain_blocks")
@admin_domain_blocks.get("/api/v1/instance/domain_blocks/")
async def public_list() -> Response:
    """Every domain block, for anyone: Mastodon shows them when the admin chose to; here they
    are always public (obfuscated ones starred out, with the digest to check a guess)."""
    return jsonify([render_public_domain_block(block) for block in await service.list_blocks()])
