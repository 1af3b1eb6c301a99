"""/report/<account id>: a user reports an account (optionally one of its posts) to the
moderators, with a category and a comment; for a remote account they may also send it on to
its server. Through the same service as ``POST /api/v1/reports``."""

from __future__ import annotations

from quart import Response, request

from services import reports
from services.errors import StarlingError
from services.postcache import load_accounts, load_posts
from services.web_sessions import WebSession
from web.api.paths import snowflake_from_path
from web.deps import backends, settings
from web.ui.blueprint import ui
from web.ui.cards import account_card
from web.ui.errors import error_page
from web.ui.forms import back
from web.ui.render import page
from web.ui.session import signed_in

CATEGORIES = (
    ("spam", "Spam"),
    ("violation", "It breaks this server's rules"),
    ("legal", "It is illegal"),
    ("other", "Something else"),
)


def _post_id(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63 else None


@ui.get("/report/<raw_id>")
@signed_in
async def report_form(raw_id: str, session: WebSession) -> Response:
    account_id = snowflake_from_path(raw_id)
    found = await load_accounts(backends().redis, [account_id])
    snapshot = found.get(account_id)
    if snapshot is None or snapshot["suspended_at"] or account_id == session.account_id:
        return await error_page(404, "")
    post_id = _post_id(request.args.get("post"))
    post = (await load_posts(backends().redis, [post_id])).get(post_id) if post_id else None
    if post is not None and post["author_id"] != account_id:
        post = None
    return await page(
        "ui/report.html", title="Report", account=account_card(snapshot, settings()),
        post=post, categories=CATEGORIES, max_comment=reports.MAX_COMMENT,
    )  # fmt: skip


@ui.post("/report/<raw_id>")
@signed_in
async def report_send(raw_id: str, session: WebSession) -> Response:
    account_id = snowflake_from_path(raw_id)
    form = await request.form
    post_id = _post_id(form.get("post"))
    new = reports.NewReport(
        account_id=account_id,
        status_ids=[post_id] if post_id else [],
        comment=form.get("comment", ""),
        forward=form.get("forward") == "on",
        category=form.get("category") or None,
    )
    try:
        await reports.create_report(backends(), session.account_id, new)
    except StarlingError as exc:
        return await back(session, f"/report/{account_id}", exc.message, kind="error")
    return await back(session, "/home", "Thank you: the moderators will look at your report.")
