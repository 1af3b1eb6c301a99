"""The moderators' side of reports: the queue, and assigning, resolving and reopening one.

Resolving records who closed it, when, with which action (none, silence, suspend, delete
posts: the action itself is taken through services/moderation) and a note. Nothing is
deleted: a resolved report can be reopened.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.timezone import now

from models.admin import Report, ReportState
from services.errors import NotFound, ValidationFailed
from services.moderation import Moderator
from services.paging import Page

ACTIONS = ("none", "silence", "suspend", "delete_posts")
MAX_NOTE = 1000


@dataclass(frozen=True)
class ReportFilter:
    """Mastodon's Admin::ReportFilter: ``resolved`` (False: the open ones), the reporter
    (``account_id``) and the reported account (``target_account_id``)."""

    resolved: bool = False
    account_id: int | None = None
    target_account_id: int | None = None


async def page_reports(wanted: ReportFilter, page: Page) -> list[Report]:
    state = ReportState.RESOLVED if wanted.resolved else ReportState.OPEN
    query = Report.filter(state=state)
    if wanted.account_id is not None:
        query = query.filter(reporter_id=wanted.account_id)
    if wanted.target_account_id is not None:
        query = query.filter(target_id=wanted.target_account_id)
    if page.max_id is not None:
        query = query.filter(id__lt=page.max_id)
    if page.lower is not None:
        query = query.filter(id__gt=page.lower)
    rows = await query.order_by("id" if page.ascending else "-id").limit(page.limit)
    return sorted(rows, key=lambda report: report.id, reverse=True)


async def get_report(report_id: int) -> Report:
    report = await Report.filter(id=report_id).first() if 0 < report_id < 2**63 else None
    if report is None:
        raise NotFound("Record not found")
    return report


async def assign_to_self(report_id: int, by: Moderator) -> Report:
    report = await get_report(report_id)
    report.assigned_account_id = by.account_id  # type: ignore[attr-defined]
    await report.save(update_fields=["assigned_account_id", "updated_at"])
    return report


async def unassign(report_id: int, by: Moderator) -> Report:
    report = await get_report(report_id)
    report.assigned_account_id = None  # type: ignore[attr-defined]
    await report.save(update_fields=["assigned_account_id", "updated_at"])
    return report


async def resolve(report_id: int, by: Moderator, *, action: str = "none", note: str = "") -> Report:
    """Close the report, recording who, when, the action taken and a note."""
    if action not in ACTIONS:
        raise ValidationFailed(f"Validation failed: action must be one of {', '.join(ACTIONS)}")
    if len(note) > MAX_NOTE:
        raise ValidationFailed(f"Validation failed: the note is longer than {MAX_NOTE} characters")
    report = await get_report(report_id)
    report.state = ReportState.RESOLVED
    report.resolved_at = now()
    report.action_taken_by_id = by.account_id  # type: ignore[attr-defined]
    report.action = action
    report.resolution_note = note
    await report.save(
        update_fields=["state", "resolved_at", "action_taken_by_id", "action",
                       "resolution_note", "updated_at"]
    )  # fmt: skip
    return report


async def reopen(report_id: int, by: Moderator) -> Report:
    """Open it again; who resolved it and the note stay on record until it is resolved anew."""
    report = await get_report(report_id)
    report.state = ReportState.OPEN
    report.resolved_at = None
    await report.save(update_fields=["state", "resolved_at", "updated_at"])
    return report
