"""Reports in the Mastodon client API: ``POST /api/v1/reports`` and the Report entity."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator
from quart import Blueprint

from instance.config import Settings
from models.accounts import Account
from models.admin import Report, ReportState
from services import reports as service
from services.errors import NotFound
from services.oauth import TokenContext
from web.api.auth import require_auth
from web.api.entities import iso, render_account
from web.api.params import params
from web.deps import backends, settings

reports_api = Blueprint("reports_api", __name__)


def render_report(report: Report, target: Account, settings: Settings) -> dict[str, Any]:
    """Mastodon's Report entity (what the reporter, or a notification, sees)."""
    resolved = report.state == ReportState.RESOLVED
    return {
        "id": str(report.id),
        "action_taken": resolved,
        "action_taken_at": iso(report.resolved_at) if report.resolved_at else None,
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": iso(report.created_at),
        "status_ids": [str(post_id) for post_id in report.post_ids] or None,
        "rule_ids": [str(rule_id) for rule_id in report.rule_ids] or None,
        "target_account": render_account(target, settings),
    }


def _listed(value: object) -> object:
    if value in (None, ""):
        return []
    return [value] if isinstance(value, str | int) else value


class ReportParams(BaseModel):
    account_id: int = Field(ge=1, lt=2**63)
    status_ids: list[int] = Field(default_factory=list)
    comment: str = ""
    forward: bool = False
    category: str | None = None
    rule_ids: list[str] = Field(default_factory=list)

    _lists = field_validator("status_ids", "rule_ids", mode="before")(_listed)

    @field_validator("category", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("status_ids")
    @classmethod
    def _ids(cls, value: list[int]) -> list[int]:
        if any(not 0 < item < 2**63 for item in value):
            raise ValueError("status_ids must be post ids")
        return value


@reports_api.post("/api/v1/reports", strict_slashes=False)  # Mastodon.py adds a "/"
@require_auth("write:reports")
@params(ReportParams)
async def create(token: TokenContext, params: ReportParams) -> dict[str, Any]:
    new = service.NewReport(
        account_id=params.account_id, status_ids=params.status_ids, comment=params.comment,
        forward=params.forward, category=params.category, rule_ids=params.rule_ids,
    )  # fmt: skip
    report = await service.create_report(backends(), token.account_id or 0, new)
    target = await Account.filter(id=report.target_id).first()  # type: ignore[attr-defined]
    if target is None:
        raise NotFound("Record not found")
    return render_report(report, target, settings())
