"""Post and account snapshots for pages (services/postcache): one Redis call when all are cached."""

from __future__ import annotations

from services import postcache
from tests.factories import bearer, make_user, token_for


async def test_a_cached_page_names_its_boosts_authors_and_mentions_in_one_call(
    client, settings, backends, monkeypatch
):
    # Given a post that mentions bob, and carol's boost of it
    alice, bob, carol = [await make_user(settings, name) for name in ("alice", "bob", "carol")]
    alice_h = bearer(await token_for(alice, "read write"))
    carol_h = bearer(await token_for(carol, "read write"))
    response = await client.post("/api/v1/statuses", json={"status": "hi @bob"}, headers=alice_h)
    original = int((await response.get_json())["id"])
    response = await client.post(f"/api/v1/statuses/{original}/reblog", headers=carol_h)
    boost = int((await response.get_json())["id"])
    first = await postcache.load_page(backends.redis, [boost])  # caches every snapshot

    # When the page is read again, with every snapshot cached
    looked_up: list[int] = []

    async def spy(redis, ids):  # what the page script did not find by itself
        looked_up.extend(ids)
        return {}

    monkeypatch.setattr(postcache, "load_posts", spy)
    monkeypatch.setattr(postcache, "load_accounts", spy)
    posts, originals, accounts = await postcache.load_page(backends.redis, [boost])

    # Then the script found the boosted post, its author, the booster and bob by itself
    assert (posts, originals, accounts) == first
    assert set(originals) == {original}
    assert set(accounts) == {alice.account_id, bob.account_id, carol.account_id}
    assert looked_up == []
