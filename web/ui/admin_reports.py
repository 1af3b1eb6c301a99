"""/admin/reports: the moderators' queue (open or resolved) and one report, with its posts and
the forms to assign it, resolve it with an action and a note, or reopen it.

Resolving with "silence" or "suspend" takes that action on the reported account through
services/moderation (as /admin/accounts/<id> does) before closing the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quart import Response, request

from models.accounts import Account
from models.admin import Report, ReportState
from services import moderation, report_queue
from services.errors import BadRequest, StarlingError
from services.moderation import Moderator
from services.postcache import load_posts
from services.report_queue import ReportFilter
from web.api.paths import snowflake_from_path
from web.deps import backends
from web.ui.admin import Staff, admin_page, staff_only
from web.ui.blueprint import ui
from web.ui.errors import error_page
from web.ui.forms import back
from web.ui.paging import next_link, requested_page

PAGE_SIZE = 40
ACTION_LABELS = {
    "none": "No action",
    "silence": "Silence the account",
    "suspend": "Suspend the account",
    "delete_posts": "Posts deleted",
}


@dataclass(frozen=True)
class ReportRow:
    report: Report
    reporter: Account
    target: Account
    assigned: Account | None
    resolved_by: Account | None

    @property
    def open(self) -> bool:
        return self.report.state == ReportState.OPEN


def _moderator(staff: Staff) -> Moderator:
    return Moderator(account_id=staff.account_id, role=staff.role)


async def _rows(found: list[Report]) -> list[ReportRow]:
    ids = {r.reporter_id for r in found} | {r.target_id for r in found}  # type: ignore[attr-defined]
    ids |= {r.assigned_account_id for r in found} | {r.action_taken_by_id for r in found}  # type: ignore[attr-defined]
    accounts = {a.id: a for a in await Account.filter(id__in=[i for i in ids if i])}

    def one(account_id: int | None) -> Account | None:
        return accounts.get(account_id) if account_id else None

    return [
        ReportRow(r, accounts[r.reporter_id], accounts[r.target_id],  # type: ignore[attr-defined]
                  one(r.assigned_account_id), one(r.action_taken_by_id))  # type: ignore[attr-defined]
        for r in found
        if r.reporter_id in accounts and r.target_id in accounts  # type: ignore[attr-defined]
    ]  # fmt: skip


@ui.get("/admin/reports")
@staff_only
async def reports_queue(staff: Staff) -> Response:
    resolved = request.args.get("resolved") in ("1", "true")
    wanted = requested_page(PAGE_SIZE)
    found = await report_queue.page_reports(ReportFilter(resolved=resolved), wanted)
    more = next_link([r.id for r in found], PAGE_SIZE, resolved=str(int(resolved)))
    return await admin_page(
        "ui/admin/reports.html", section="reports", title="Reports",
        rows=await _rows(found), resolved=resolved, more=more,
    )  # fmt: skip


@ui.get("/admin/reports/<raw_id>")
@staff_only
async def report_detail(raw_id: str, staff: Staff) -> Response:
    report = await report_queue.get_report(snowflake_from_path(raw_id))
    rows = await _rows([report])
    if not rows:  # an account it names is gone
        return await error_page(404, "")
    row = rows[0]
    posts = await load_posts(backends().redis, list(report.post_ids))
    shown: list[dict[str, Any]] = [posts[i] for i in report.post_ids if i in posts]
    return await admin_page(
        "ui/admin/report.html", section="reports", title=f"Report {report.id}", row=row,
        posts=shown, missing=len(report.post_ids) - len(shown), actions=ACTION_LABELS,
        staff=staff,
    )  # fmt: skip


@ui.post("/admin/reports/<raw_id>/<action>")
@staff_only
async def report_action(raw_id: str, action: str, staff: Staff) -> Response:
    report_id = snowflake_from_path(raw_id)
    here = f"/admin/reports/{report_id}"
    by = _moderator(staff)
    try:
        message = await _act(report_id, action, by)
    except StarlingError as exc:
        return await back(staff.session, here, exc.message, kind="error")
    return await back(staff.session, here, message)


async def _act(report_id: int, action: str, by: Moderator) -> str:
    if action == "assign":
        await report_queue.assign_to_self(report_id, by)
        return "The report is yours."
    if action == "unassign":
        await report_queue.unassign(report_id, by)
        return "Nobody is assigned."
    if action == "reopen":
        await report_queue.reopen(report_id, by)
        return "Report reopened."
    if action == "resolve":
        form = await request.form
        taken = form.get("resolution", "none")
        report = await report_queue.get_report(report_id)
        if taken == "silence":
            await moderation.silence(backends(), report.target_id, by)  # type: ignore[attr-defined]
        elif taken == "suspend":
            await moderation.suspend(backends(), report.target_id, by)  # type: ignore[attr-defined]
        await report_queue.resolve(report_id, by, action=taken, note=form.get("note", ""))
        return "Report resolved."
    raise BadRequest("Unknown action.")
