"""An admin editing the instance's settings: name, descriptions, contact, sign-up mode, rules.

Each is an ``InstanceSetting`` row (services/instance reads them, over config.toml's values),
so /api/v1/instance, v2, rules, extended_description, NodeInfo and the pages show a change at
once. Every field is checked before anything is stored: a form with one bad field changes
nothing and says what is wrong with each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.accounts import Account
from services import instance
from services.accounts import EMAIL, MAX_EMAIL
from services.errors import NotFound, ValidationFailed
from services.instance import RegistrationMode

MAX_TITLE = 100
MAX_SHORT = 500
MAX_EXTENDED = 20_000
MAX_MESSAGE = 1000
MAX_RULE = 300
MAX_HINT = 1000
MAX_RULES = 50


@dataclass(frozen=True)
class InstanceForm:
    """What the admin settings form submits (strings as typed)."""

    title: str = ""
    short_description: str = ""
    extended_description: str = ""
    contact_username: str = ""
    contact_email: str = ""
    registration_mode: str = RegistrationMode.OPEN.value
    require_reason: bool = False
    closed_message: str = ""


class _Problems:
    def __init__(self) -> None:
        self.details: dict[str, list[dict[str, str]]] = {}

    def add(self, name: str, description: str) -> None:
        problem = {"error": "ERR_INVALID", "description": description}
        self.details.setdefault(name, []).append(problem)

    def too_long(self, name: str, value: str, limit: int) -> None:
        if len(value) > limit:
            self.add(name, f"is too long (at most {limit} characters)")

    def raise_if_any(self) -> None:
        if self.details:
            summary = ", ".join(f"{name} {p[0]['description']}" for name, p in self.details.items())
            raise ValidationFailed(f"Validation failed: {summary}", self.details)


def _check_text(form: InstanceForm, problems: _Problems) -> None:
    problems.too_long("title", form.title, MAX_TITLE)
    problems.too_long("short_description", form.short_description, MAX_SHORT)
    problems.too_long("extended_description", form.extended_description, MAX_EXTENDED)
    problems.too_long("closed_message", form.closed_message, MAX_MESSAGE)
    for name, value in vars(form).items():
        if isinstance(value, str) and "\x00" in value:
            problems.add(name, "contains a NUL character")


async def _check(form: InstanceForm) -> _Problems:
    problems = _Problems()
    _check_text(form, problems)
    email = form.contact_email
    if email and (len(email) > MAX_EMAIL or not EMAIL.match(email)):
        problems.add("contact_email", "is not an e-mail address")
    if form.registration_mode not in {mode.value for mode in RegistrationMode}:
        problems.add("registration_mode", "must be open, approved or closed")
    username = form.contact_username.lstrip("@")
    if username and "\x00" not in username:
        found = Account.filter(acct=username.lower(), domain__isnull=True)
        if not await found.filter(suspended_at__isnull=True).exists():
            problems.add("contact_username", "is not a local account")
    return problems


async def update(form: InstanceForm) -> None:
    """Store every field of ``form`` (an empty one falls back to config.toml's value)."""
    problems = await _check(form)
    problems.raise_if_any()
    values: dict[str, Any] = {
        "title": form.title.strip(),
        "description": form.short_description.strip(),
        "extended_description": form.extended_description.strip(),
        "contact_username": form.contact_username.strip().lstrip("@"),
        "contact_email": form.contact_email.strip(),
        "registration_mode": form.registration_mode,
        "require_reason": form.require_reason,
        "closed_registrations_message": form.closed_message.strip(),
    }
    for key, value in values.items():
        await instance.set_setting(key, value)


# --- rules ------------------------------------------------------------------------------


async def _stored_rules() -> list[dict[str, str]]:
    """The rules as stored, each with its id (older rows may lack ids: numbered in order)."""
    return [
        {"id": rule.id, "text": rule.text, "hint": rule.hint} for rule in await instance.rules()
    ]


def _check_rule(text: str, hint: str) -> tuple[str, str]:
    problems = _Problems()
    text, hint = text.strip(), hint.strip()
    if not text:
        problems.add("text", "can't be blank")
    problems.too_long("text", text, MAX_RULE)
    problems.too_long("hint", hint, MAX_HINT)
    if "\x00" in text + hint:
        problems.add("text", "contains a NUL character")
    problems.raise_if_any()
    return text, hint


async def add_rule(text: str, hint: str = "") -> str:
    """A new rule at the end; answers its id (never one a removed rule had)."""
    text, hint = _check_rule(text, hint)
    rules = await _stored_rules()
    if len(rules) >= MAX_RULES:
        raise ValidationFailed(f"At most {MAX_RULES} rules")
    ids = [int(rule["id"]) for rule in rules if rule["id"].isdigit()]
    last = await _last_rule_id()
    new_id = str(max([*ids, last]) + 1)
    await _save_rules([*rules, {"id": new_id, "text": text, "hint": hint}], new_id)
    return new_id


async def edit_rule(rule_id: str, text: str, hint: str = "") -> None:
    text, hint = _check_rule(text, hint)
    rules = await _stored_rules()
    if not any(rule["id"] == rule_id for rule in rules):
        raise NotFound("No such rule")
    edited = [{**r, "text": text, "hint": hint} if r["id"] == rule_id else r for r in rules]
    await _save_rules(edited)


async def remove_rule(rule_id: str) -> None:
    rules = await _stored_rules()
    if not any(rule["id"] == rule_id for rule in rules):
        raise NotFound("No such rule")
    await _save_rules([rule for rule in rules if rule["id"] != rule_id])


async def _last_rule_id() -> int:
    value = await instance.get_setting("rules_last_id")
    return value if isinstance(value, int) else 0


async def _save_rules(rules: list[dict[str, str]], new_id: str | None = None) -> None:
    await instance.set_setting("rules", rules)
    if new_id is not None:
        await instance.set_setting("rules_last_id", int(new_id))
