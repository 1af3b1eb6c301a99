"""Public account reads: ``GET /api/v1/accounts/:id`` and ``/api/v1/accounts/lookup``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models.accounts import Account
from tests.integration.accounts_support import assert_account_shape, make_user
from web.api.entities import iso


async def make_remote(username: str = "bob", domain: str = "remote.example") -> Account:
    return await Account.create(
        username=username,
        domain=domain,
        acct=f"{username}@{domain}".lower(),
        uri=f"https://{domain}/users/{username}",
        note="<p>Remote bio</p>",
        avatar_url=f"https://{domain}/avatar.png",
        last_post_at=datetime(2026, 11, 20, 15, 30, tzinfo=UTC),
    )


def test_times_are_utc_with_milliseconds_and_z():
    moment = datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=UTC)

    assert iso(moment) == "2026-11-25T10:00:00.123Z"


async def test_account_by_id_is_a_typed_account_without_auth(client, settings):
    user = await make_user(settings, "alice")

    response = await client.get(f"/api/v1/accounts/{user.account_id}")

    assert response.status_code == 200
    entity = await response.get_json()
    assert_account_shape(entity)
    assert entity["id"] == str(user.account_id)
    assert entity["acct"] == "alice"
    assert "source" not in entity


async def test_local_account_gets_the_default_avatar_and_header_we_serve(client, settings):
    user = await make_user(settings, "alice")
    entity = await (await client.get(f"/api/v1/accounts/{user.account_id}")).get_json()

    for url in (entity["avatar"], entity["header"]):
        assert url.startswith(settings.base_url)
        image = await client.get(url.removeprefix(settings.base_url))
        assert image.status_code == 200
        assert image.mimetype == "image/png"


async def test_remote_account_acct_carries_its_host(client):
    remote = await make_remote()

    entity = await (await client.get(f"/api/v1/accounts/{remote.id}")).get_json()

    assert_account_shape(entity)
    assert entity["acct"] == "bob@remote.example"
    assert entity["avatar"] == "https://remote.example/avatar.png"
    assert entity["last_status_at"] == "2026-11-20"


@pytest.mark.parametrize(
    "raw_id", ["12345", "abc", "-1", "0", "99999999999999999999999", "9223372036854775808", "１２"]
)
async def test_unknown_or_malformed_account_id_is_404(client, raw_id):
    response = await client.get(f"/api/v1/accounts/{raw_id}")

    assert response.status_code == 404
    assert (await response.get_json())["error"]


async def test_suspended_account_is_404(client, settings):
    user = await make_user(settings, "gone")
    await Account.filter(id=user.account_id).update(suspended_at=datetime.now(UTC))

    response = await client.get(f"/api/v1/accounts/{user.account_id}")

    assert response.status_code == 404


@pytest.mark.parametrize("acct", ["alice", "@alice", "ALICE", "alice@starling.test"])
async def test_lookup_finds_a_local_account_by_any_spelling(client, settings, acct):
    user = await make_user(settings, "alice")

    response = await client.get("/api/v1/accounts/lookup", query_string={"acct": acct})

    assert response.status_code == 200
    assert (await response.get_json())["id"] == str(user.account_id)


async def test_lookup_finds_a_remote_account_by_user_at_host(client):
    remote = await make_remote()

    response = await client.get(
        "/api/v1/accounts/lookup", query_string={"acct": "bob@remote.example"}
    )

    assert (await response.get_json())["id"] == str(remote.id)


async def test_lookup_of_an_unknown_account_is_404(client):
    response = await client.get("/api/v1/accounts/lookup", query_string={"acct": "nobody"})

    assert response.status_code == 404


async def test_lookup_without_acct_is_422(client):
    response = await client.get("/api/v1/accounts/lookup")

    assert response.status_code == 422
