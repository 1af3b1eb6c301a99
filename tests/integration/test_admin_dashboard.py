"""/admin: the dashboard shows staff the instance's size, what waits for a moderator, and how
federation and the job queues are doing; nobody else finds it."""

from __future__ import annotations

import re

import pytest
from tortoise.timezone import now

from models.accounts import Role
from models.admin import Report
from models.federation import Delivery, DeliveryState, Domain
from services import jobs
from services.backends import Backends
from tests.factories import account_of, make_post, make_remote_account, make_user
from tests.integration.ui_support import HTML, get_page, sign_in


def stat(html: str, label: str) -> str:
    """The figure shown beside ``label``."""
    found = re.search(
        rf"<dt>(?:<a [^>]*>)?{re.escape(label)}(?:</a>)?</dt><dd[^>]*>(\d+)</dd>", html
    )
    assert found, f"no {label!r} on the dashboard"
    return found.group(1)


async def _delivery(signer, state: DeliveryState, n: int) -> None:
    await Delivery.create(
        activity_id=f"https://starling.test/activities/{n}",
        inbox=f"https://down.example/inbox/{n}",
        domain="down.example",
        payload={"type": "Create"},
        signer=signer,
        state=state,
    )


@pytest.fixture
async def busy_instance(settings, backends: Backends):
    mod = await make_user(settings, "mod", role=Role.MODERATOR)
    alice = await account_of(await make_user(settings, "alice"))
    await make_user(settings, "waiting", approved=False)
    rob = await make_remote_account("rob", "down.example")
    await make_post(alice, "one")
    await make_post(alice, "two")
    await Report.create(reporter=alice, target=rob, comment="spam")
    await _delivery(alice, DeliveryState.PENDING, 1)
    await _delivery(alice, DeliveryState.PENDING, 2)
    await _delivery(alice, DeliveryState.FAILED, 3)
    await Domain.create(domain="down.example", unreachable_since=now(), consecutive_failures=12)
    await jobs.enqueue(backends.queue, jobs.Job("fanout", (1,), job_id="dash-1"))
    return mod


async def test_staff_see_the_instance_at_a_glance(client, busy_instance):
    await sign_in(client, "mod")

    html = await get_page(client, "/admin")

    assert '<h1 class="page-title">Dashboard</h1>' in html
    assert 'href="/admin" aria-current="page"' in html
    assert stat(html, "Local accounts") == "3"
    assert stat(html, "Remote accounts known") == "1"
    assert stat(html, "Local posts") == "2"
    assert stat(html, "Sign-ups to approve") == "1"
    assert stat(html, "Open reports") == "1"
    assert stat(html, "Deliveries queued") == "2"
    assert stat(html, "Deliveries failed (24 h)") == "1"
    assert stat(html, "Unreachable domains") == "1"
    assert "<td>down.example</td>" in html
    assert '<td data-label="Failed attempts in a row">12</td>' in html
    queue_row = re.search(
        r"\(arq:queue\)</span></td>\s*<td data-label=\"Due now\">(\d+)</td>"
        r"\s*<td data-label=\"Scheduled later\">(\d+)</td>",
        html,
    )
    assert queue_row
    assert queue_row.groups() == ("1", "0")
    assert "(arq:search)" in html


@pytest.mark.parametrize("role", [None, Role.USER])
async def test_others_find_no_dashboard(client, settings, role):
    if role is not None:
        await make_user(settings, "plain", role=role)
        await sign_in(client, "plain")
    response = await client.get("/admin", headers=HTML)
    assert response.status_code == 404
    assert "Dashboard" not in await response.get_data(as_text=True)
