"""/admin/settings (admins only): the instance's name, descriptions, contact, sign-up mode and
rules, as the landing page, /api/v1/instance (v1 and v2), its rules and extended description,
and NodeInfo show them (services/instance_settings stores them)."""

from __future__ import annotations

from typing import Any

from quart import Response, request

from services import instance as instance_service
from services import instance_settings
from services.errors import NotFound, ValidationFailed
from services.instance_settings import InstanceForm
from web.deps import settings
from web.ui.admin import Staff, admin_only, admin_page
from web.ui.blueprint import ui
from web.ui.forms import back

HERE = "/admin/settings"
MODES = (
    ("open", "Open: anyone can sign up"),
    ("approved", "Approval: a moderator approves each sign-up first"),
    ("closed", "Closed: nobody can sign up"),
)


async def _stored_form() -> InstanceForm:
    info = await instance_service.instance_info(settings())
    return InstanceForm(
        title=info.title,
        short_description=info.description,
        extended_description=info.extended_description,
        contact_username=str(await instance_service.get_setting("contact_username") or ""),
        contact_email=info.email,
        registration_mode=info.registration_mode.value,
        require_reason=info.reason_required,
        closed_message=info.registration_message or "",
    )


def _errors(exc: ValidationFailed) -> dict[str, str]:
    return {name: problems[0]["description"] for name, problems in exc.details.items()}


async def _settings_page(
    staff: Staff, form: InstanceForm, status: int = 200, **context: Any
) -> Response:
    return await admin_page(
        "ui/admin/settings.html",
        section="settings",
        status=status,
        title="Settings",
        form=form,
        modes=MODES,
        rules=await instance_service.rules(),
        first_admin=await instance_service.contact_account(),
        staff=staff,
        **context,
    )


@ui.get(HERE)
@admin_only
async def settings_form(staff: Staff) -> Response:
    return await _settings_page(staff, await _stored_form())


@ui.post(HERE)
@admin_only
async def save_settings(staff: Staff) -> Response:
    posted = await request.form
    form = InstanceForm(
        title=posted.get("title", ""),
        short_description=posted.get("short_description", ""),
        extended_description=posted.get("extended_description", ""),
        contact_username=posted.get("contact_username", ""),
        contact_email=posted.get("contact_email", ""),
        registration_mode=posted.get("registration_mode", ""),
        require_reason=posted.get("require_reason") == "on",
        closed_message=posted.get("closed_message", ""),
    )
    try:
        await instance_settings.update(form)
    except ValidationFailed as exc:
        return await _settings_page(staff, form, 422, errors=_errors(exc))
    return await back(staff.session, HERE, "Settings saved.")


async def _rule_action(staff: Staff, action: Any, done: str) -> Response:
    try:
        await action
    except ValidationFailed as exc:
        problems = "; ".join(f"{n} {p[0]['description']}" for n, p in exc.details.items())
        return await back(staff.session, HERE, f"Rule {problems or exc.message}.", kind="error")
    except NotFound:
        return await back(staff.session, HERE, "That rule is gone already.", kind="error")
    return await back(staff.session, HERE, done)


@ui.post(f"{HERE}/rules")
@admin_only
async def add_rule(staff: Staff) -> Response:
    form = await request.form
    added = instance_settings.add_rule(form.get("text", ""), form.get("hint", ""))
    return await _rule_action(staff, added, "Rule added.")


@ui.post(f"{HERE}/rules/<rule_id>")
@admin_only
async def edit_rule(staff: Staff, rule_id: str) -> Response:
    form = await request.form
    edited = instance_settings.edit_rule(rule_id, form.get("text", ""), form.get("hint", ""))
    return await _rule_action(staff, edited, "Rule saved.")


@ui.post(f"{HERE}/rules/<rule_id>/delete")
@admin_only
async def remove_rule(staff: Staff, rule_id: str) -> Response:
    return await _rule_action(staff, instance_settings.remove_rule(rule_id), "Rule removed.")
