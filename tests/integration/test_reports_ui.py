"""The web UI for reports and domain blocks: the Report form on posts and profiles, and the
admin pages for the report queue and domain blocks (CSRF-protected forms, staff only)."""

from __future__ import annotations

from models.accounts import Account, Role
from models.admin import Report, ReportState
from models.federation import Domain
from tests.factories import make_post, make_remote_account, make_user, member
from tests.integration.ui_support import HTML, get_page, location, sign_in, submit, text_of


async def test_a_user_reports_a_post_from_its_report_link(client, settings):
    await member(settings, "alice")
    bob, _ = await member(settings, "bob")
    post = await make_post(bob, "a rude post")
    await sign_in(client)
    profile = await get_page(client, "/@bob")
    assert f'href="/report/{bob.id}?post={post.id}"' in profile
    assert f'href="/report/{bob.id}"' in profile

    response = await submit(client, f"/report/{bob.id}?post={post.id}", f"/report/{bob.id}",
                            category="spam", comment="please look")  # fmt: skip

    assert location(response) == "/@bob"
    (made,) = await Report.all()
    assert (made.target_id, made.post_ids, made.category) == (bob.id, [post.id], "spam")
    assert made.comment == "please look"


async def test_a_report_form_without_the_csrf_token_is_refused(client, settings):
    await member(settings, "alice")
    bob, _ = await member(settings, "bob")
    await sign_in(client)

    response = await client.post(f"/report/{bob.id}", form={"comment": "x"}, headers=HTML)

    assert response.status_code == 403
    assert not await Report.exists()


async def sign_in_staff(client, settings, role: Role = Role.MODERATOR) -> Account:
    user = await make_user(settings, "mod", role=role)
    await sign_in(client, "mod")
    return await Account.get(id=user.account_id)


async def test_the_admin_pages_are_404_for_everyone_else(client, settings):
    await make_user(settings, "alice")
    await sign_in(client)
    for path in ("/admin/reports", "/admin/domains"):
        await get_page(client, path, 404)


async def test_a_moderator_works_a_report_from_the_queue(client, settings):
    moderator = await sign_in_staff(client, settings)
    alice, _ = await member(settings, "alice")
    bob, _ = await member(settings, "bob")
    post = await make_post(bob, "spam for sale")
    report = await Report.create(reporter=alice, target=bob, post_ids=[post.id], comment="spam!")

    queue = await get_page(client, "/admin/reports")
    assert f'href="/admin/reports/{report.id}"' in queue
    detail = await get_page(client, f"/admin/reports/{report.id}")
    assert "spam for sale" in detail
    assert "spam!" in detail
    assert f'href="/admin/accounts/{bob.id}"' in detail
    here = f"/admin/reports/{report.id}"

    assigned = await submit(client, here, f"{here}/assign")
    assert location(assigned) == here
    assert (await Report.get(id=report.id)).assigned_account_id == moderator.id
    resolved = await submit(client, here, f"{here}/resolve", resolution="silence", note="sold spam")
    assert location(resolved) == here

    stored = await Report.get(id=report.id)
    assert (stored.state, stored.action, stored.resolution_note) == (
        ReportState.RESOLVED,
        "silence",
        "sold spam",
    )
    assert (await Account.get(id=bob.id)).silenced_at is not None
    await submit(client, here, f"{here}/reopen")
    assert (await Report.get(id=report.id)).state is ReportState.OPEN


async def test_a_moderator_blocks_and_unblocks_a_domain_from_the_page(client, settings):
    await sign_in_staff(client, settings)
    rob = await make_remote_account("rob", "spam.example")

    response = await submit(client, "/admin/domains", "/admin/domains", domain="Spam.Example",
                            severity="suspend", public_comment="spam")  # fmt: skip

    assert location(response) == "/admin/domains"
    row = await Domain.get(domain="spam.example")
    assert (row.blocked, row.public_comment) == (True, "spam")
    assert (await Account.get(id=rob.id)).suspended_at is not None
    listing = await get_page(client, "/admin/domains")
    assert "spam.example" in listing
    assert "suspend" in listing
    bad = await submit(client, "/admin/domains", "/admin/domains", domain="not a domain")
    assert "not a valid domain" in await text_of(await client.get(location(bad), headers=HTML))

    await submit(client, "/admin/domains", f"/admin/domains/{row.id}/delete")

    assert (await Domain.get(id=row.id)).blocked_at is None
    assert (await Account.get(id=rob.id)).suspended_at is None
