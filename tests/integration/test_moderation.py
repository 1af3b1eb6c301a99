"""Moderating accounts through services/moderation: a suspension hides an account and its
content from every read at once and ends its access, is told to peers as a Delete of the
actor, and is undone without loss; a silence keeps it out of public places."""

from __future__ import annotations

import pytest

from models.accounts import Account, Role, User
from models.federation import Delivery, DeliveryState
from models.oauth import AccessToken
from models.posts import Visibility
from models.relationships import Follow, FollowState
from services import delivery, moderation, posting
from services.domains import host_of
from services.errors import Forbidden
from services.moderation import Moderator
from tests.drain import drain
from tests.factories import PASSWORD, bearer, make_remote_account, make_user, member, token_for
from tests.integration.search_support import found_texts, fresh_index, indexed, search
from tests.integration.ui_support import get_page, sign_in, submit


@pytest.fixture
async def admin(settings) -> Moderator:
    user = await make_user(settings, "boss", role=Role.ADMIN)
    return Moderator(account_id=user.account_id, role=Role.ADMIN)  # type: ignore[attr-defined]


async def post(backends, author: Account, text: str, **kw) -> int:
    return await posting.create_post(backends, author.id, posting.NewPost(text=text, **kw))


async def peer(fediverse, host: str, name: str) -> Account:
    """An account of a fake remote server that answers deliveries."""
    actor = fediverse.server(host).actor(name)
    return await Account.create(
        username=name, domain=host, acct=f"{name}@{host}", uri=actor.id,
        inbox_uri=f"{actor.id}/inbox", shared_inbox_uri=f"https://{host}/inbox",
        public_key_id=actor.key_id, public_key=actor.keys.public_pem,
    )  # fmt: skip


async def credentials_status(client, token: str) -> int:
    response = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    return response.status_code


async def public_texts(client, token: str | None = None, path="/api/v1/timelines/public"):
    response = await client.get(path, headers=bearer(token) if token else {})
    assert response.status_code == 200
    return [s["content"] for s in await response.get_json()]


async def test_suspending_revokes_tokens_and_ends_web_sessions_at_once(
    client, backends, settings, admin
):
    mallory, token = await member(settings, "mallory")
    assert await credentials_status(client, token) == 200
    await sign_in(client, "mallory")
    await get_page(client, "/home")

    await moderation.suspend(backends, mallory.id, admin)

    # The token was cached for a minute by the first call: revoked all the same.
    assert await credentials_status(client, token) == 401
    assert not await AccessToken.filter(user__account_id=mallory.id, revoked_at=None).exists()
    page = await client.get("/home", headers={"Accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["Location"].startswith("/login")


async def test_a_suspended_user_cannot_sign_in(client, backends, settings, admin):
    mallory, _ = await member(settings, "mallory")
    await moderation.suspend(backends, mallory.id, admin)

    refused = await submit(client, "/login", "/login", login="mallory", password=PASSWORD)

    assert refused.status_code == 422
    assert "Your login is currently disabled" in await refused.get_data(as_text=True)


async def test_a_suspended_accounts_profile_and_posts_are_gone_from_api_reads(
    client, backends, settings, admin
):
    mallory, _ = await member(settings, "mallory")
    alice, alice_token = await member(settings, "alice")
    await Follow.create(follower=alice, followee=mallory, state=FollowState.ACCEPTED)
    post_id = await post(backends, mallory, "buy my stuff")
    await drain(settings)
    assert "buy my stuff" in str(await public_texts(client))

    await moderation.suspend(backends, mallory.id, admin)

    assert (await client.get(f"/api/v1/accounts/{mallory.id}")).status_code == 404
    lookup = await client.get("/api/v1/accounts/lookup", query_string={"acct": "mallory"})
    assert lookup.status_code == 404
    assert (await client.get(f"/api/v1/statuses/{post_id}")).status_code == 404
    assert "buy my stuff" not in str(await public_texts(client))
    home = await public_texts(client, alice_token, "/api/v1/timelines/home")
    assert "buy my stuff" not in str(home)
    following = f"/api/v1/accounts/{alice.id}/following"
    followers = await client.get(following, headers=bearer(alice_token))
    assert followers.status_code == 200
    assert await followers.get_json() == []


async def test_a_suspended_account_leaves_search(client, backends, settings, admin):
    await fresh_index(settings)
    mallory, _ = await member(settings, "mallory")
    _, token = await member(settings, "viewer")
    await post(backends, mallory, "spammy words here")
    await indexed(settings)
    assert await found_texts(client, token, "spammy") == ["spammy words here"]

    await moderation.suspend(backends, mallory.id, admin)
    await indexed(settings)

    assert await found_texts(client, token, "spammy") == []
    results = await search(client, token, "mallory", type="accounts")
    assert results["accounts"] == []


async def test_suspending_a_local_account_sends_a_delete_of_the_actor_to_its_peers(
    fed, fediverse, settings, admin
):
    mallory, _ = await member(settings, "mallory")
    rob = await peer(fediverse, "one.example", "rob")
    tom = await peer(fediverse, "two.example", "tom")
    await Follow.create(follower=rob, followee=mallory, state=FollowState.ACCEPTED)
    await Follow.create(follower=mallory, followee=tom, state=FollowState.ACCEPTED)

    await moderation.suspend(fed, mallory.id, admin)

    rows = await Delivery.filter(signer_id=mallory.id)
    assert sorted(row.inbox for row in rows) == [
        "https://one.example/inbox",
        "https://two.example/inbox",
    ]
    for row in rows:
        assert row.payload["type"] == "Delete"
        assert row.payload["actor"] == row.payload["object"] == mallory.uri
        assert row.payload["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    # Delivered signed by the suspended actor's own key, which peers hold.
    outcome = await delivery.attempt(fed, rows[0].id)
    assert outcome.state is DeliveryState.DELIVERED
    received = fediverse.server(host_of(rows[0].inbox)).received[0]
    assert received.verified
    assert received.activity["type"] == "Delete"


async def test_unsuspending_restores_everything_and_tells_peers(client, fed, settings, admin):
    mallory, _ = await member(settings, "mallory")
    rob = await make_remote_account("rob", "one.example")
    await Follow.create(follower=rob, followee=mallory, state=FollowState.ACCEPTED)
    post_id = await post(fed, mallory, "I am back")
    await moderation.suspend(fed, mallory.id, admin)

    await moderation.unsuspend(fed, mallory.id, admin)

    assert (await client.get(f"/api/v1/accounts/{mallory.id}")).status_code == 200
    assert (await client.get(f"/api/v1/statuses/{post_id}")).status_code == 200
    assert await Follow.filter(follower=rob, followee=mallory).exists()  # nothing was lost
    kinds = {row.payload["type"] for row in await Delivery.filter(signer_id=mallory.id)}
    assert {"Delete", "Update"} <= kinds


async def test_a_suspended_remote_accounts_posts_and_follows_are_hidden(
    client, backends, settings, admin
):
    alice, token = await member(settings, "alice")
    rob = await make_remote_account("rob", "one.example")
    await Follow.create(follower=rob, followee=alice, state=FollowState.ACCEPTED)

    await moderation.suspend(backends, rob.id, admin)

    assert (await Account.get(id=rob.id)).suspended_at is not None
    followers = await client.get(f"/api/v1/accounts/{alice.id}/followers", headers=bearer(token))
    assert await followers.get_json() == []
    assert not await Delivery.filter(signer_id=rob.id).exists()  # nobody speaks for a peer


async def test_silencing_keeps_posts_out_of_public_timelines_and_unlists_new_ones(
    client, backends, settings, admin
):
    loud, _ = await member(settings, "loud")
    await post(backends, loud, "before the silence")

    await moderation.silence(backends, loud.id, admin)
    new_id = await post(backends, loud, "after the silence")

    assert "silence" not in str(await public_texts(client))
    local = await public_texts(client, path="/api/v1/timelines/public?local=true")
    assert "silence" not in str(local)
    shown = await client.get(f"/api/v1/statuses/{new_id}")
    assert (await shown.get_json())["visibility"] == "unlisted"


async def test_a_silenced_account_only_notifies_its_followers(client, backends, settings, admin):
    loud, _ = await member(settings, "loud")
    fan, fan_token = await member(settings, "fan")
    _, other_token = await member(settings, "other")
    await Follow.create(follower=fan, followee=loud, state=FollowState.ACCEPTED)
    await moderation.silence(backends, loud.id, admin)

    await post(backends, loud, "hey @fan and @other", visibility=Visibility.PUBLIC)

    fan_sees = await client.get("/api/v1/notifications", headers=bearer(fan_token))
    other_sees = await client.get("/api/v1/notifications", headers=bearer(other_token))
    assert [n["type"] for n in await fan_sees.get_json()] == ["mention"]
    assert await other_sees.get_json() == []


async def test_unsilencing_brings_the_account_back_to_public_timelines(
    client, backends, settings, admin
):
    loud, _ = await member(settings, "loud")
    await post(backends, loud, "heard again")
    await moderation.silence(backends, loud.id, admin)

    await moderation.unsilence(backends, loud.id, admin)

    assert "heard again" in str(await public_texts(client))


async def test_moderators_cannot_act_on_admins_nor_on_themselves(backends, settings, admin):
    mod_user = await make_user(settings, "modest", role=Role.MODERATOR)
    moderator = Moderator(account_id=mod_user.account_id, role=Role.MODERATOR)  # type: ignore[attr-defined]

    with pytest.raises(Forbidden):
        await moderation.suspend(backends, admin.account_id, moderator)
    with pytest.raises(Forbidden):
        await moderation.suspend(backends, moderator.account_id, moderator)
    assert (await Account.get(id=admin.account_id)).suspended_at is None


async def test_purging_deletes_content_only_of_a_suspended_account(backends, settings, admin):
    mallory, _ = await member(settings, "mallory")
    await post(backends, mallory, "evidence")
    with pytest.raises(Forbidden):
        await moderation.purge(backends, mallory.id, admin)

    await moderation.suspend(backends, mallory.id, admin)
    await moderation.purge(backends, mallory.id, admin)

    account = await Account.get(id=mallory.id)
    assert account.suspended_at is not None
    assert account.posts_count == 0
    assert not await User.filter(account_id=mallory.id).exists()


async def test_disabling_a_login_keeps_the_account_visible(client, backends, settings, admin):
    bob, token = await member(settings, "bob")

    await moderation.disable(backends, bob.id, admin)

    assert await credentials_status(client, token) == 401
    assert (await client.get(f"/api/v1/accounts/{bob.id}")).status_code == 200
    await moderation.enable(bob.id, admin)
    fresh = await token_for(await User.get(account_id=bob.id))
    assert await credentials_status(client, fresh) == 200


async def test_a_silenced_accounts_posts_are_found_only_by_its_followers(
    client, backends, settings, admin
):
    await fresh_index(settings)
    loud, _ = await member(settings, "loud")
    fan, fan_token = await member(settings, "fan")
    _, other_token = await member(settings, "other")
    await Follow.create(follower=fan, followee=loud, state=FollowState.ACCEPTED)
    await post(backends, loud, "megaphone announcement")

    await moderation.silence(backends, loud.id, admin)
    await indexed(settings)

    assert await found_texts(client, fan_token, "megaphone") == ["megaphone announcement"]
    assert await found_texts(client, other_token, "megaphone") == []
    # Not suggested by a partial name (an exact acct still finds it, as on Mastodon).
    assert (await search(client, other_token, "lou", type="accounts"))["accounts"] == []
