"""Searching accounts: /api/v2/search?type=accounts and /api/v1/accounts/search, with what is
listed and what is not, and ``resolve`` looking up an unknown ``user@host`` through WebFinger."""

from __future__ import annotations

import pytest
from tortoise.timezone import now

from models.accounts import Account
from models.relationships import Block, Follow, FollowState
from services.postcache import forget_accounts
from tests.factories import bearer, member
from tests.integration.search_support import fresh_index, indexed, search


@pytest.fixture(autouse=True)
async def index(settings, backends):
    await fresh_index(settings)


async def accts(client, token, q, **params) -> list[str]:
    results = await search(client, token, q, type="accounts", **params)
    return [account["acct"] for account in results["accounts"]]


async def named(settings, username: str, display_name: str = "", note: str = "") -> Account:
    account, _ = await member(settings, username)
    await Account.filter(id=account.id).update(display_name=display_name, note=note)
    return account


async def test_usernames_and_display_names_match_by_their_start(client, settings):
    _, token = await member(settings, "viewer")
    await named(settings, "alice", "Alice Liddell")
    await named(settings, "bob", "Bob the Builder")
    await named(settings, "zed", "Émile Zola")
    await indexed(settings)

    assert await accts(client, token, "ali") == ["alice"]
    assert await accts(client, token, "lidd") == ["alice"]
    assert await accts(client, token, "@bo") == ["bob"]
    assert await accts(client, token, "emile") == ["zed"]  # accents folded
    assert await accts(client, token, "BUILDER bob") == ["bob"]
    assert await accts(client, token, "carol") == []


async def test_an_exact_acct_comes_first_and_user_at_host_narrows_by_domain(client, settings):
    _, token = await member(settings, "viewer")
    await named(settings, "sam_longer")
    await named(settings, "sam")
    await Account.create(
        username="sam", domain="remote.example", acct="sam@remote.example",
        uri="https://remote.example/users/sam", discoverable=True,
    )  # fmt: skip
    await indexed(settings)

    assert (await accts(client, token, "sam"))[0] == "sam"
    assert await accts(client, token, "sam@remote.example") == ["sam@remote.example"]
    assert await accts(client, token, "sam@remote") == ["sam@remote.example"]


async def test_undiscoverable_suspended_and_blocked_accounts_are_not_listed(
    client, backends, settings
):
    viewer, token = await member(settings, "viewer")
    hidden = await named(settings, "hidden_one")
    await Account.filter(id=hidden.id).update(discoverable=False)
    gone = await named(settings, "hidden_two")
    blocker = await named(settings, "hidden_three")
    await Block.create(account=blocker, target=viewer)
    await indexed(settings)
    await Account.filter(id=gone.id).update(suspended_at=now())
    await forget_accounts(backends.redis, [hidden.id, gone.id])

    assert await accts(client, token, "hidden") == []
    assert await accts(client, token, "hidden_one") == ["hidden_one"]  # an exact name still is
    assert await accts(client, token, "hidden_two") == []


async def test_following_lists_only_followed_accounts(client, settings):
    viewer, token = await member(settings, "viewer")
    friend = await named(settings, "pat_friend")
    await named(settings, "pat_other")
    await Follow.create(follower=viewer, followee=friend, state=FollowState.ACCEPTED)
    await indexed(settings)

    assert await accts(client, token, "pat", following="true") == ["pat_friend"]
    assert sorted(await accts(client, token, "pat")) == ["pat_friend", "pat_other"]


async def test_a_changed_profile_is_searched_as_it_is_now(client, settings):
    _, token = await member(settings, "viewer")
    _, alice_token = await member(settings, "alice")
    await indexed(settings)
    response = await client.patch(
        "/api/v1/accounts/update_credentials",
        json={"display_name": "Wonderland Walker"},
        headers=bearer(alice_token),
    )
    assert response.status_code == 200
    await indexed(settings)

    assert await accts(client, token, "wonderland") == ["alice"]


async def test_v1_accounts_search_needs_a_token_and_pages(client, settings):
    _, token = await member(settings, "viewer")
    for n in range(3):
        await named(settings, f"kim{n}")
    await indexed(settings)

    assert (await client.get("/api/v1/accounts/search?q=kim")).status_code == 401
    response = await client.get("/api/v1/accounts/search?q=kim&limit=2", headers=bearer(token))
    first = [a["acct"] for a in await response.get_json()]
    response = await client.get(
        "/api/v1/accounts/search?q=kim&limit=2&offset=2", headers=bearer(token)
    )
    rest = [a["acct"] for a in await response.get_json()]
    assert sorted(first + rest) == ["kim0", "kim1", "kim2"]
    assert (await client.get("/api/v1/accounts/search", headers=bearer(token))).status_code == 422


async def test_resolve_looks_up_an_unknown_remote_account_through_webfinger(
    peer_client, fediverse, settings
):
    _, token = await member(settings, "viewer")
    fediverse.server("remote.example").actor("newcomer")

    without = await search(peer_client, token, "newcomer@remote.example", type="accounts")
    assert without["accounts"] == []
    found = await search(
        peer_client, token, "@newcomer@remote.example", type="accounts", resolve="true"
    )
    assert [a["acct"] for a in found["accounts"]] == ["newcomer@remote.example"]
    assert await Account.filter(acct="newcomer@remote.example").exists()
    # A handle alone is an account search: no posts are searched for it.
    assert found["statuses"] == []


async def test_resolve_answers_what_a_remote_url_names(peer_client, fediverse, settings):
    _, token = await member(settings, "viewer")
    server = fediverse.server("remote.example")
    rob = server.actor("rob")
    note_id = f"{rob.id}/statuses/7"
    server.documents[note_id] = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": note_id,
        "type": "Note",
        "attributedTo": rob.id,
        "content": "<p>a post found by its URL</p>",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "published": "2026-11-30T10:00:00Z",
    }

    by_actor = await search(peer_client, token, rob.id, resolve="true")
    assert [a["acct"] for a in by_actor["accounts"]] == ["rob@remote.example"]
    by_note = await search(peer_client, token, note_id, resolve="true")
    assert [s["uri"] for s in by_note["statuses"]] == [note_id]
    nothing = await search(peer_client, token, "https://remote.example/nothing", resolve="true")
    assert nothing == {"accounts": [], "statuses": [], "hashtags": []}


async def test_resolve_answers_our_own_urls_without_fetching(client, settings):
    alice, token = await member(settings, "alice")
    response = await client.post("/api/v1/statuses", json={"status": "mine"}, headers=bearer(token))
    status = await response.get_json()

    found = await search(client, token, status["url"], resolve="true")
    assert [s["id"] for s in found["statuses"]] == [status["id"]]
    found = await search(
        client, token, f"https://{settings.instance.domain}/@alice", resolve="true"
    )
    assert [a["id"] for a in found["accounts"]] == [str(alice.id)]
