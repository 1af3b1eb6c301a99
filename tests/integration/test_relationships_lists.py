"""``/api/v1/accounts/relationships`` and the followers / following lists with their Links."""

from __future__ import annotations

import re

import pytest

from models.accounts import Account
from models.relationships import Block, Follow, FollowState, Mute
from tests.factories import account_of, bearer, make_user, token_for

LINK = re.compile(r'<([^>]+)>; rel="(\w+)"')


async def _user(settings, name: str, scopes: str = "read write follow"):
    user = await make_user(settings, name)
    return await account_of(user), bearer(await token_for(user, scopes))


def _links(response, settings) -> dict[str, str]:
    header = response.headers.get("Link", "")
    return {rel: url.removeprefix(settings.base_url) for url, rel in LINK.findall(header)}


async def _ids(response) -> list[str]:
    return [entity["id"] for entity in await response.get_json()]


async def test_relationships_for_several_ids_in_the_order_asked(client, settings):
    _alice, headers = await _user(settings, "alice")
    bob, carol, dave = [(await _user(settings, name))[0] for name in ("bob", "carol", "dave")]
    await client.post(f"/api/v1/accounts/{carol.id}/follow", headers=headers)
    await client.post(f"/api/v1/accounts/{dave.id}/block", headers=headers)

    response = await client.get(
        f"/api/v1/accounts/relationships?id[]={dave.id}&id[]={bob.id}&id[]={carol.id}",
        headers=headers,
    )

    assert response.status_code == 200
    rels = await response.get_json()
    assert [r["id"] for r in rels] == [str(dave.id), str(bob.id), str(carol.id)]
    assert [(r["following"], r["blocking"]) for r in rels] == [
        (False, True),
        (False, False),
        (True, False),
    ]


async def test_a_relationship_has_mastodons_fields(client, settings):
    _, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")

    response = await client.get(f"/api/v1/accounts/relationships?id={bob.id}", headers=headers)

    [rel] = await response.get_json()
    assert set(rel) == {
        "id", "following", "showing_reblogs", "notifying", "languages", "followed_by",
        "blocking", "blocked_by", "muting", "muting_notifications", "requested",
        "requested_by", "domain_blocking", "endorsed", "note",
    }  # fmt: skip


async def test_relationships_leave_out_unknown_and_malformed_ids(client, settings):
    _, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")

    response = await client.get(
        f"/api/v1/accounts/relationships?id[]=12345&id[]=abc&id[]={bob.id}&id[]=-3",
        headers=headers,
    )

    assert response.status_code == 200
    assert await _ids(response) == [str(bob.id)]


async def test_relationships_without_ids_is_an_empty_list(client, settings):
    _, headers = await _user(settings, "alice")

    response = await client.get("/api/v1/accounts/relationships", headers=headers)

    assert await response.get_json() == []


async def test_relationships_need_a_user_token_with_read_follows(client, settings):
    bob, _ = await _user(settings, "bob")
    _, wrong = await _user(settings, "carol", scopes="read:accounts")

    missing = await client.get(f"/api/v1/accounts/relationships?id={bob.id}")
    forbidden = await client.get(f"/api/v1/accounts/relationships?id={bob.id}", headers=wrong)

    assert (missing.status_code, forbidden.status_code) == (401, 403)


@pytest.fixture
async def popular(client, settings):
    """Five accounts follow "star", oldest first; "star" follows them back."""
    star, star_headers = await _user(settings, "star")
    fans = []
    for i in range(5):
        fan, headers = await _user(settings, f"fan{i}")
        await client.post(f"/api/v1/accounts/{star.id}/follow", headers=headers)
        await client.post(f"/api/v1/accounts/{fan.id}/follow", headers=star_headers)
        fans.append(fan)
    return star, star_headers, fans


@pytest.mark.parametrize("kind", ["followers", "following"])
async def test_lists_page_newest_first_through_their_next_links(client, settings, popular, kind):
    star, _, fans = popular
    expected = [str(fan.id) for fan in reversed(fans)]

    seen, path = [], f"/api/v1/accounts/{star.id}/{kind}?limit=2"
    for _ in range(3):
        response = await client.get(path)
        assert response.status_code == 200
        seen += await _ids(response)
        path = _links(response, settings)["next"]

    assert seen == expected
    assert await _ids(await client.get(path)) == []


async def test_list_links_carry_follow_ids_not_account_ids(client, settings, popular):
    star, _, _fans = popular
    follow_ids = (
        await Follow.filter(followee_id=star.id).order_by("-id").values_list("id", flat=True)
    )

    response = await client.get(f"/api/v1/accounts/{star.id}/followers?limit=2")

    links = _links(response, settings)
    assert f"max_id={follow_ids[1]}" in links["next"]
    assert f"min_id={follow_ids[0]}" in links["prev"]
    assert "limit=2" in links["next"]


async def test_the_prev_link_reads_newer_follows(client, settings, popular):
    star, _, _fans = popular
    first = await client.get(f"/api/v1/accounts/{star.id}/followers?limit=2")
    second = await client.get(_links(first, settings)["next"])

    back = await client.get(_links(second, settings)["prev"])

    assert await _ids(back) == await _ids(first)


async def test_followers_leave_out_pending_requests(client, settings):
    bob, _ = await _user(settings, "bob")
    await Account.filter(id=bob.id).update(locked=True)
    _, headers = await _user(settings, "alice")
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)

    response = await client.get(f"/api/v1/accounts/{bob.id}/followers")

    assert await _ids(response) == []
    assert await Follow.filter(state=FollowState.PENDING).count() == 1


async def test_followers_hide_accounts_the_viewer_blocks_or_mutes(client, settings, popular):
    star, _, fans = popular
    viewer, headers = await _user(settings, "viewer")
    await Block.create(account=viewer, target=fans[0])
    await Mute.create(account=viewer, target=fans[1])

    response = await client.get(f"/api/v1/accounts/{star.id}/followers", headers=headers)

    assert await _ids(response) == [str(fan.id) for fan in reversed(fans[2:])]


async def test_followers_are_empty_for_a_viewer_the_account_blocks(client, settings, popular):
    star, _, _ = popular
    viewer, headers = await _user(settings, "viewer")
    await Block.create(account=star, target=viewer)

    response = await client.get(f"/api/v1/accounts/{star.id}/followers", headers=headers)

    assert await response.get_json() == []


async def test_lists_of_an_unknown_or_malformed_account_are_404(client):
    for path in ("/api/v1/accounts/abc/followers", "/api/v1/accounts/424242/following"):
        assert (await client.get(path)).status_code == 404


async def test_lists_refuse_a_token_without_read_accounts(client, settings):
    bob, _ = await _user(settings, "bob")
    _, headers = await _user(settings, "alice", scopes="write")

    response = await client.get(f"/api/v1/accounts/{bob.id}/followers", headers=headers)

    assert response.status_code == 403


async def test_follow_requests_page_with_links(client, settings):
    star, star_headers = await _user(settings, "star")
    await Account.filter(id=star.id).update(locked=True)
    fans = []
    for i in range(3):
        fan, headers = await _user(settings, f"fan{i}")
        await client.post(f"/api/v1/accounts/{star.id}/follow", headers=headers)
        fans.append(fan)

    first = await client.get("/api/v1/follow_requests?limit=2", headers=star_headers)
    second = await client.get(_links(first, settings)["next"], headers=star_headers)

    assert await _ids(first) + await _ids(second) == [str(f.id) for f in reversed(fans)]
