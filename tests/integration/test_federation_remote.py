"""Remote accounts and posts as we fetch them: WebFinger resolution, what we refuse to
believe, and the limits that keep one server from making us fetch without end."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import orjson
import pytest
from tortoise.timezone import now

from activitypub import parse
from activitypub.errors import FetchError
from models.accounts import Account
from models.federation import InboxItem, Tombstone
from models.posts import Post
from models.relationships import Follow, FollowState
from services.inbound import Inbound, announce, delete
from services.remote import actors
from services.remote.fetch import fetch_json
from services.remote.notes import fetch_post
from tests.factories import bearer, member
from tests.fakes import Fediverse


async def test_lookup_resolves_an_unknown_account_through_webfinger(peer_client, fediverse):
    rob = fediverse.server("remote.example").actor("rob", summary="<p>hi <script>x</script></p>")

    response = await peer_client.get(
        "/api/v1/accounts/lookup", query_string={"acct": "rob@remote.example"}
    )

    assert response.status_code == 200
    entity = await response.get_json()
    assert entity["acct"] == "rob@remote.example"
    assert entity["uri"] == rob.id
    assert entity["url"] == "https://remote.example/@rob"
    assert "<script" not in entity["note"]
    stored = await Account.get(uri=rob.id)
    assert stored.inbox_uri == f"{rob.id}/inbox"
    assert stored.shared_inbox_uri == "https://remote.example/inbox"
    assert stored.public_key == rob.keys.public_pem


async def test_lookup_of_a_name_nobody_answers_to_is_404(peer_client, fediverse):
    fediverse.server("remote.example")

    response = await peer_client.get(
        "/api/v1/accounts/lookup", query_string={"acct": "nobody@remote.example"}
    )

    assert response.status_code == 404


async def test_an_actor_document_claiming_another_host_is_not_believed(peer_client, fediverse):
    liar = fediverse.server("liar.example")
    impostor = liar.actor("rob", actor_id="https://victim.example/users/rob")
    liar.documents["https://liar.example/users/rob"] = impostor.document

    response = await peer_client.get(
        "/api/v1/accounts/lookup", query_string={"acct": "rob@liar.example"}
    )

    assert response.status_code == 404
    assert not await Account.filter(uri="https://victim.example/users/rob").exists()


async def test_a_known_stale_account_answers_at_once_and_is_refreshed_in_the_background(
    peer_client, fed, fediverse
):
    rob = fediverse.server("remote.example").actor("rob")
    await actors.fetch_actor(fed, rob.id)
    await Account.filter(uri=rob.id).update(fetched_at=now() - timedelta(days=2))

    response = await peer_client.get(
        "/api/v1/accounts/lookup", query_string={"acct": "rob@remote.example"}
    )

    assert response.status_code == 200
    entity_id = int((await response.get_json())["id"])
    queued = await fed.queue.queued_jobs()
    assert [(job.function, job.args) for job in queued] == [("refresh_actor", (entity_id,))]


async def test_following_a_remote_account_found_by_lookup_queues_a_follow(
    peer_client, fediverse, settings
):
    _, token = await member(settings, "alice")
    fediverse.server("remote.example").actor("rob")
    found = await (
        await peer_client.get(
            "/api/v1/accounts/lookup", query_string={"acct": "rob@remote.example"}
        )
    ).get_json()

    response = await peer_client.post(
        f"/api/v1/accounts/{found['id']}/follow", headers=bearer(token)
    )

    assert (await response.get_json())["requested"] is True


def _chain(fediverse: Fediverse, length: int) -> list[str]:
    """A reply chain on one server: note 0 <- note 1 <- ... <- note length-1."""
    server = fediverse.server("chain.example")
    author = server.actor("talker")
    ids = []
    for n in range(length):
        note_id = f"https://chain.example/notes/{n}"
        server.documents[note_id] = {
            "id": note_id, "type": "Note", "attributedTo": author.id,
            "content": f"<p>link {n}</p>", "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "inReplyTo": ids[-1] if ids else None, "published": "2026-11-30T10:00:00Z",
        }  # fmt: skip
        ids.append(note_id)
    return ids


async def test_a_reply_chain_is_fetched_only_so_deep(fed, fediverse, settings):
    ids = _chain(fediverse, 10)

    stored = await fetch_post(fed, ids[-1])

    assert stored is not None
    depth = settings.federation.max_fetch_depth
    assert await Post.filter(uri__in=ids).count() == depth + 1
    deepest = await Post.filter(uri=ids[-(depth + 1)]).first()
    assert deepest.in_reply_to_uri == ids[-(depth + 2)]  # known by id, not fetched


async def test_one_domain_cannot_make_us_fetch_without_bound(fed, fediverse, settings):
    rob = fediverse.server("remote.example").actor("rob")
    budget = 3
    tight = dataclasses.replace(
        fed,
        settings=settings.model_copy(
            update={
                "federation": settings.federation.model_copy(
                    update={"fetch_budget_per_minute": budget}
                )
            }
        ),
    )

    for _ in range(budget):
        await fetch_json(tight, rob.id)
    with pytest.raises(FetchError, match="budget"):
        await fetch_json(tight, rob.id)


async def test_a_boost_of_an_unknown_post_fetches_it_from_its_server(fed, fediverse, settings):

    alice, _ = await member(settings, "alice")
    ids = _chain(fediverse, 1)
    booster_actor = fediverse.server("remote.example").actor("rob")
    booster = await actors.fetch_actor(fed, booster_actor.id)
    await Follow.create(follower_id=alice.id, followee_id=booster.id, state=FollowState.ACCEPTED)
    activity = parse.parse_activity({
        "id": f"{booster.uri}/announces/1", "type": "Announce", "actor": booster.uri,
        "object": ids[0], "to": ["https://www.w3.org/ns/activitystreams#Public"],
    })  # fmt: skip

    outcome = await announce.handle(Inbound(backends=fed, activity=activity, actor=booster))

    assert outcome == "done"
    original = await Post.get(uri=ids[0])
    assert await Post.filter(boost_of_id=original.id, author_id=booster.id).exists()


async def test_a_key_document_cannot_replace_another_servers_actor(peer_client, fediverse):
    """An actor document served for a key on evil.example, naming an actor on another host,
    must not become that actor's key and inbox."""
    victim = fediverse.server("victim.example").actor("vic")
    evil = fediverse.server("evil.example")
    forger = evil.actor("forger")
    forged = dict(forger.document, id=victim.id, inbox="https://evil.example/inbox")
    evil.documents[forger.id] = forged
    activity = {"id": f"{victim.id}#create", "type": "Create", "actor": victim.id,
                "object": f"{victim.id}/statuses/1"}  # fmt: skip
    body = orjson.dumps(activity)

    response = await peer_client.post(
        "https://starling.test/inbox", data=body,
        headers=forger.signed("https://starling.test/inbox", body),
    )  # fmt: skip

    assert response.status_code == 401
    assert not await Account.filter(uri=victim.id).exists()


async def test_an_activity_whose_id_is_on_another_host_is_refused(peer_client, fediverse):
    rob = fediverse.server("remote.example").actor("rob")
    activity = {"id": "https://other.example/activities/1", "type": "Like", "actor": rob.id,
                "object": "https://starling.test/users/x/statuses/1"}  # fmt: skip
    body = orjson.dumps(activity)

    response = await peer_client.post(
        "https://starling.test/inbox", data=body,
        headers=rob.signed("https://starling.test/inbox", body),
    )  # fmt: skip

    assert response.status_code == 400
    assert not await InboxItem.exists()


async def test_a_delete_of_another_servers_post_leaves_no_tombstone(fed, fediverse):
    rob = await actors.fetch_actor(fed, fediverse.server("remote.example").actor("rob").id)
    activity = parse.parse_activity({
        "id": f"{rob.uri}#delete/1", "type": "Delete", "actor": rob.uri,
        "object": "https://other.example/notes/not-yet-here",
    })  # fmt: skip

    await delete.handle(Inbound(backends=fed, activity=activity, actor=rob))

    assert not await Tombstone.exists()


async def test_a_server_cannot_give_another_servers_actor_its_domain(peer_client, fediverse):
    real = fediverse.server("real.example").actor("rob")
    evil = fediverse.server("evil.example")
    evil.actors["rob"] = real  # evil's WebFinger answers rob@evil.example with real's actor

    response = await peer_client.get(
        "/api/v1/accounts/lookup", query_string={"acct": "rob@evil.example"}
    )

    # Then real.example, asked about its own actor, keeps the handle: rob@real.example
    assert response.status_code == 200
    assert (await response.get_json())["acct"] == "rob@real.example"
    assert await Account.filter(acct="rob@evil.example").count() == 0
