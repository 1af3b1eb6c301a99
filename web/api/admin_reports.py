"""Mastodon's admin API for reports: the queue, one report, and assign / unassign / resolve /
reopen, for moderators and admins (``admin:read:reports`` / ``admin:write:reports``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator
from quart import Blueprint, Response, jsonify

from instance.config import Settings
from models.admin import Report, ReportState
from services import admin_accounts, report_queue
from services import instance as instance_service
from services.moderation import Moderator
from services.report_queue import ReportFilter
from services.statuses import load
from web.api.admin_account_entity import render_admin_account
from web.api.entities import iso, render_statuses
from web.api.pagination import PageParams, with_links
from web.api.params import params
from web.api.paths import snowflake_from_path
from web.api.staff import require_staff
from web.deps import backends, settings

admin_reports = Blueprint("admin_reports", __name__)

READ, WRITE = "admin:read:reports", "admin:write:reports"
LIMIT, MAX_LIMIT = 100, 200


async def _admin_account(account_id: int | None, seen: dict[int, Any]) -> dict[str, Any] | None:
    if account_id is None:
        return None
    if account_id not in seen:
        view = await admin_accounts.one(account_id)
        seen[account_id] = render_admin_account(view, settings()) if view else None
    return seen[account_id]


async def render_admin_report(
    report: Report, settings: Settings, seen: dict[int, Any] | None = None
) -> dict[str, Any]:
    """Mastodon's Admin::Report entity: the accounts as Admin::Accounts, the reported posts
    as Statuses (moderators see them whatever their visibility), the rules it names."""
    seen = {} if seen is None else seen
    hydrated = await load(backends().redis, list(report.post_ids))
    rules = {rule.id: rule for rule in await instance_service.rules()}
    return {
        "id": str(report.id),
        "action_taken": report.state == ReportState.RESOLVED,
        "action_taken_at": iso(report.resolved_at) if report.resolved_at else None,
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": iso(report.created_at),
        "updated_at": iso(report.updated_at or report.created_at),
        "account": await _admin_account(report.reporter_id, seen),  # type: ignore[attr-defined]
        "target_account": await _admin_account(report.target_id, seen),  # type: ignore[attr-defined]
        "assigned_account": await _admin_account(report.assigned_account_id, seen),  # type: ignore[attr-defined]
        "action_taken_by_account": await _admin_account(report.action_taken_by_id, seen),  # type: ignore[attr-defined]
        "statuses": render_statuses(hydrated, settings),
        "rules": [
            {"id": rule.id, "text": rule.text, "hint": rule.hint}
            for rule_id in report.rule_ids
            if (rule := rules.get(str(rule_id))) is not None
        ],
    }


def _blank(value: object) -> object:
    return None if value == "" else value


class ReportListParams(PageParams):
    resolved: bool = False
    account_id: int | None = Field(None, ge=1, lt=2**63)
    target_account_id: int | None = Field(None, ge=1, lt=2**63)

    _blanks = field_validator("account_id", "target_account_id", mode="before")(_blank)

    def wanted(self) -> ReportFilter:
        return ReportFilter(self.resolved, self.account_id, self.target_account_id)


@admin_reports.get("/api/v1/admin/reports")
@require_staff(READ)
@params(ReportListParams, query=True)
async def index(staff: Moderator, params: ReportListParams) -> Response:
    found = await report_queue.page_reports(params.wanted(), params.page(LIMIT, MAX_LIMIT))
    seen: dict[int, Any] = {}
    entities = [await render_admin_report(report, settings(), seen) for report in found]
    return with_links(jsonify(entities), [report.id for report in found])


@admin_reports.get("/api/v1/admin/reports/<raw_id>")
@require_staff(READ)
async def show(raw_id: str, staff: Moderator) -> dict[str, Any]:
    report = await report_queue.get_report(snowflake_from_path(raw_id))
    return await render_admin_report(report, settings())


@admin_reports.post("/api/v1/admin/reports/<raw_id>/assign_to_self")
@require_staff(WRITE)
async def assign_to_self(raw_id: str, staff: Moderator) -> dict[str, Any]:
    report = await report_queue.assign_to_self(snowflake_from_path(raw_id), staff)
    return await render_admin_report(report, settings())


@admin_reports.post("/api/v1/admin/reports/<raw_id>/unassign")
@require_staff(WRITE)
async def unassign(raw_id: str, staff: Moderator) -> dict[str, Any]:
    report = await report_queue.unassign(snowflake_from_path(raw_id), staff)
    return await render_admin_report(report, settings())


@admin_reports.post("/api/v1/admin/reports/<raw_id>/resolve")
@require_staff(WRITE)
async def resolve(raw_id: str, staff: Moderator) -> dict[str, Any]:
    report = await report_queue.resolve(snowflake_from_path(raw_id), staff)
    return await render_admin_report(report, settings())


@admin_reports.post("/api/v1/admin/reports/<raw_id>/reopen")
@require_staff(WRITE)
async def reopen(raw_id: str, staff: Moderator) -> dict[str, Any]:
    report = await report_queue.reopen(snowflake_from_path(raw_id), staff)
    return await render_admin_report(report, settings())
