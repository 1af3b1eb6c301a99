"""Mastodon's "perform an action against an account" (``POST /api/v1/admin/accounts/:id/action``):
one of none, disable, silence, suspend, optionally closing the report it answers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tortoise.timezone import now
from tortoise.transactions import in_transaction

from models.accounts import Account
from models.admin import Report, ReportState
from services import moderation
from services.backends import Backends
from services.errors import NotFound, ValidationFailed
from services.moderation import Moderator

MAX_ID = 2**63 - 1


class ActionType(StrEnum):
    NONE = "none"
    SENSITIVE = "sensitive"
    DISABLE = "disable"
    SILENCE = "silence"
    SUSPEND = "suspend"


@dataclass(frozen=True)
class Action:
    type: ActionType
    report_id: int | None = None
    text: str = ""  # the moderator's note (Mastodon's warning text), kept on the report


async def _report_about(account: Account, report_id: int) -> Report:
    report = None
    if 0 < report_id <= MAX_ID:
        report = await Report.filter(id=report_id, target_id=account.id).first()
    if report is None:
        raise NotFound("Record not found")
    return report


async def take(backends: Backends, account_id: int, by: Moderator, action: Action) -> Account:
    """Apply the action; with ``report_id`` (a report about this account) the report is
    resolved, recording the action, who took it and the note."""
    if action.type is ActionType.SENSITIVE:
        # Mastodon marks an account's media sensitive; Starling posts carry no media yet.
        raise ValidationFailed("Validation failed: Type sensitive is not supported: no media")
    account = await moderation.target(account_id)
    await moderation.check_may_act(by, account)
    report = await _report_about(account, action.report_id) if action.report_id else None
    if action.type is ActionType.SUSPEND:
        account = await moderation.suspend(backends, account_id, by)
    elif action.type is ActionType.SILENCE:
        account = await moderation.silence(backends, account_id, by)
    elif action.type is ActionType.DISABLE:
        account = await moderation.disable(backends, account_id, by)
    if report is not None:
        await resolve_report(report, by, action.type.value, action.text)
    return account


async def resolve_report(report: Report, by: Moderator, action: str, note: str) -> None:
    async with in_transaction():
        report.state = ReportState.RESOLVED
        report.resolved_at = now()
        report.action = action
        report.action_taken_by_id = by.account_id  # type: ignore[attr-defined]
        if note:
            report.resolution_note = note  # type: ignore[attr-defined]
        await report.save()
