"""/admin/settings: an admin edits the instance's name, descriptions, contact, rules and sign-up
mode through the form, and every place that tells about the instance shows it: the landing
page, /api/v1/instance (v1, v2), its rules and extended description, and NodeInfo."""

from __future__ import annotations

import pytest

from models.accounts import Role, User
from services import instance as instance_service
from tests.factories import bearer, make_user
from tests.integration.accounts_support import app_token, registration
from tests.integration.ui_support import (
    HTML,
    forms_of,
    get_page,
    location,
    sign_in,
    sign_up,
    submit,
    text_of,
)

SETTINGS = "/admin/settings"
FORM = {
    "title": "Birdhouse",
    "short_description": "A cosy place for bird people.",
    "extended_description": "We watch birds.\n\nBe <kind> to each other.",
    "contact_username": "warden",
    "contact_email": "warden@birdhouse.example",
    "registration_mode": "open",
    "closed_message": "",
}


@pytest.fixture
async def admin(settings):
    await make_user(settings, "boss", role=Role.ADMIN)
    await make_user(settings, "warden")


async def save(client, **fields: str):
    return await submit(client, SETTINGS, SETTINGS, **(FORM | fields))


async def test_an_admin_edits_the_instance_and_the_api_shows_it(client, admin):
    await sign_in(client, "boss")

    response = await save(client)

    assert location(response) == SETTINGS
    assert "Settings saved." in await get_page(client, SETTINGS)
    v1 = await (await client.get("/api/v1/instance")).get_json()
    assert v1["title"] == "Birdhouse"
    assert v1["short_description"] == "A cosy place for bird people."
    assert v1["email"] == "warden@birdhouse.example"
    assert v1["contact_account"]["username"] == "warden"
    v2 = await (await client.get("/api/v2/instance")).get_json()
    assert v2["title"] == "Birdhouse"
    assert v2["description"] == "A cosy place for bird people."
    assert v2["contact"]["email"] == "warden@birdhouse.example"
    assert v2["contact"]["account"]["username"] == "warden"
    about = await (await client.get("/api/v1/instance/extended_description")).get_json()
    assert about["content"] == "<p>We watch birds.</p><p>Be &lt;kind&gt; to each other.</p>"
    assert about["updated_at"].endswith("Z")


async def test_the_landing_page_and_nodeinfo_show_the_settings(client, admin):
    await sign_in(client, "boss")
    await save(client)
    visitor = client.app.test_client()

    landing = await get_page(visitor, "/")

    assert "<h1>Birdhouse</h1>" in landing
    assert "<title>Welcome · Birdhouse</title>" in landing
    assert "A cosy place for bird people." in landing
    assert "<p>We watch birds.</p><p>Be &lt;kind&gt; to each other.</p>" in landing
    assert 'href="/@warden"' in landing
    assert "mailto:warden@birdhouse.example" in landing
    nodeinfo = await (await visitor.get("/nodeinfo/2.1")).get_json()
    assert nodeinfo["metadata"] == {
        "nodeName": "Birdhouse",
        "nodeDescription": "A cosy place for bird people.",
    }
    assert nodeinfo["openRegistrations"] is True


async def test_rules_are_added_edited_and_removed_keeping_their_ids(client, admin):
    await sign_in(client, "boss")
    for text in ("Be kind", "No spam", "No ads"):
        response = await submit(client, SETTINGS, f"{SETTINGS}/rules", text=text, hint="")
        assert location(response) == SETTINGS
    rules = await (await client.get("/api/v1/instance/rules")).get_json()
    assert [(r["id"], r["text"]) for r in rules] == [
        ("1", "Be kind"),
        ("2", "No spam"),
        ("3", "No ads"),
    ]

    await submit(client, SETTINGS, f"{SETTINGS}/rules/2", text="No spam, ever", hint="Bots too")
    await submit(client, SETTINGS, f"{SETTINGS}/rules/1/delete")
    await submit(client, SETTINGS, f"{SETTINGS}/rules", text="Be nice", hint="")

    rules = await (await client.get("/api/v1/instance/rules")).get_json()
    assert rules == [
        {"id": "2", "text": "No spam, ever", "hint": "Bots too"},
        {"id": "3", "text": "No ads", "hint": ""},
        {"id": "4", "text": "Be nice", "hint": ""},  # never 1 again: reports cite rules by id
    ]
    v2 = await (await client.get("/api/v2/instance")).get_json()
    assert [r["text"] for r in v2["rules"]] == ["No spam, ever", "No ads", "Be nice"]
    assert "No spam, ever" in await get_page(client.app.test_client(), "/")


async def test_a_blank_rule_is_refused_with_a_message(client, admin):
    await sign_in(client, "boss")
    response = await submit(client, SETTINGS, f"{SETTINGS}/rules", text="   ", hint="")
    assert location(response) == SETTINGS
    assert "can&#39;t be blank" in await get_page(client, SETTINGS)
    assert await instance_service.rules() == ()


async def test_bad_fields_are_all_reported_and_nothing_is_saved(client, admin):
    await sign_in(client, "boss")

    response = await save(
        client, title="x" * 101, contact_email="not-an-address", contact_username="nobody"
    )

    assert response.status_code == 422
    html = await text_of(response)
    assert "Nothing was saved" in html
    assert "Title is too long" in html
    assert "Contact email is not an e-mail address" in html
    assert "Contact username is not a local account" in html
    assert 'value="not-an-address"' in html  # what was typed stays in the form
    v1 = await (await client.get("/api/v1/instance")).get_json()
    assert v1["title"] == "Starling Test"


async def test_closed_sign_ups_show_everywhere(client, admin):
    await sign_in(client, "boss")
    await save(client, registration_mode="closed", closed_message="Full for now.")

    v1 = await (await client.get("/api/v1/instance")).get_json()
    assert v1["registrations"] is False
    v2 = await (await client.get("/api/v2/instance")).get_json()
    assert v2["registrations"]["enabled"] is False
    assert v2["registrations"]["message"] == "Full for now."
    assert (await (await client.get("/nodeinfo/2.0")).get_json())["openRegistrations"] is False
    visitor = client.app.test_client()
    landing = await get_page(visitor, "/")
    assert "Sign-ups are closed: Full for now." in landing
    assert 'href="/register"' not in landing
    register = await get_page(visitor, "/register")
    assert "Full for now." in register


async def test_approval_mode_with_a_required_reason(client, admin):
    await sign_in(client, "boss")
    await save(client, registration_mode="approved", require_reason="on")

    v2 = await (await client.get("/api/v2/instance")).get_json()
    assert v2["registrations"]["approval_required"] is True
    assert v2["registrations"]["reason_required"] is True
    assert (await (await client.get("/api/v1/instance")).get_json())["approval_required"] is True
    assert (await (await client.get("/nodeinfo/2.1")).get_json())["openRegistrations"] is True

    visitor = client.app.test_client()
    assert "Request an account" in await get_page(visitor, "/")
    assert "(required)" in await get_page(visitor, "/register")
    refused = await sign_up(visitor, "hopeful", reason="  ")
    assert refused.status_code == 422
    assert "Reason can&#39;t be blank" in await text_of(refused)
    assert not await User.filter(email="hopeful@example.com").exists()

    accepted = await sign_up(visitor, "hopeful", reason="I ring birds for a living.")
    assert accepted.status_code == 200
    assert "will review your account" in await text_of(accepted)
    user = await User.get(email="hopeful@example.com")
    assert (user.approved, user.registration_reason) == (False, "I ring birds for a living.")


async def test_the_api_sign_up_needs_the_reason_too(client, admin):
    await instance_service.set_setting("registration_mode", "approved")
    await instance_service.set_setting("require_reason", True)
    token = await app_token("read write")

    refused = await client.post(
        "/api/v1/accounts", json=registration("apper"), headers=bearer(token)
    )

    assert refused.status_code == 422
    assert (await refused.get_json())["details"]["reason"][0]["error"] == "ERR_BLANK"
    body = registration("apper", reason="Birds.")
    accepted = await client.post("/api/v1/accounts", json=body, headers=bearer(token))
    assert accepted.status_code == 200


@pytest.mark.parametrize("role", [None, Role.USER, Role.MODERATOR])
async def test_only_admins_find_the_settings(client, settings, role):
    if role is not None:
        await make_user(settings, "someone", role=role)
        await sign_in(client, "someone")
    assert (await client.get(SETTINGS, headers=HTML)).status_code == 404
    # A valid CSRF token (from a page they may open) does not help either.
    html = await get_page(client, "/home" if role else "/login")
    token = next(f.fields["csrf_token"] for f in forms_of(html) if "csrf_token" in f.fields)
    for action in (SETTINGS, f"{SETTINGS}/rules"):
        form = FORM | {"csrf_token": token, "text": "Obey"}
        assert (await client.post(action, form=form, headers=HTML)).status_code == 404
    assert (await (await client.get("/api/v1/instance")).get_json())["title"] == "Starling Test"
    assert await instance_service.rules() == ()
