"""/admin/domains: the domain blocks, a form to add one (severity, comments, media and
report rejection) and a button to lift each, through services/domain_blocks (the service
the admin API and ``starling domains`` use: every process sees a change as it is published)."""

from __future__ import annotations

from quart import Response, request

from services import domain_blocks
from services.domain_blocks import BlockSpec, Severity
from services.errors import StarlingError, ValidationFailed
from web.api.paths import snowflake_from_path
from web.deps import backends
from web.ui.admin import Staff, admin_page, staff_only
from web.ui.blueprint import ui
from web.ui.forms import back

SEVERITIES = (
    ("silence", "Silence: out of public timelines and search"),
    ("suspend", "Suspend: no federation at all, its accounts hidden, follows severed"),
    ("noop", "None: only reject media or reports"),
)


@ui.get("/admin/domains")
@staff_only
async def domains_page(staff: Staff) -> Response:
    return await admin_page(
        "ui/admin/domains.html", section="domains", title="Domain blocks",
        blocks=await domain_blocks.list_blocks(), severities=SEVERITIES,
        max_comment=domain_blocks.MAX_COMMENT,
    )  # fmt: skip


def _spec(form: dict[str, str]) -> BlockSpec:
    try:
        severity = Severity(form.get("severity", "silence"))
    except ValueError:
        raise ValidationFailed("Choose silence, suspend or none.") from None
    return BlockSpec(
        severity=severity,
        reject_media=form.get("reject_media") == "on",
        reject_reports=form.get("reject_reports") == "on",
        private_comment=form.get("private_comment", ""),
        public_comment=form.get("public_comment", ""),
        obfuscate=form.get("obfuscate") == "on",
    )


@ui.post("/admin/domains")
@staff_only
async def domains_add(staff: Staff) -> Response:
    form = await request.form
    try:
        made = await domain_blocks.block(backends(), form.get("domain", ""), _spec(form))
    except StarlingError as exc:
        return await back(staff.session, "/admin/domains", exc.message, kind="error")
    return await back(
        staff.session, "/admin/domains", f"{made.domain} is blocked ({made.severity})."
    )


@ui.post("/admin/domains/<raw_id>/delete")
@staff_only
async def domains_remove(raw_id: str, staff: Staff) -> Response:
    lifted = await domain_blocks.unblock(backends(), snowflake_from_path(raw_id))
    return await back(staff.session, "/admin/domains", f"{lifted.domain} is no longer blocked.")
