"""The inbox, as peers POST to it: what is refused (and how), what is stored, and what real
servers' activities become once a worker applies them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from activitypub import proofs
from models.accounts import Account
from models.federation import Domain, InboxItem, InboxState
from models.notifications import Notification
from models.posts import Post
from models.relationships import Follow, FollowState
from services.inbound import dispatch
from tests.drain import drain
from tests.factories import bearer, member
from tests.fakes import Fediverse

FIXTURES = Path(__file__).resolve().parent.parent / "unit" / "activitypub" / "fixtures"
INBOX = "https://starling.test/inbox"


def create_note(actor, note_id: str, content: str, cc: list[str]) -> dict:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": actor.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": cc,
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": actor.id,
            "content": content,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": cc,
            "tag": [{"type": "Mention", "href": cc[0], "name": "@x"}] if cc else [],
        },
    }


async def post(client, actor, activity: dict, url: str = INBOX, **headers: str):
    body = orjson.dumps(activity)
    return await client.post(url, data=body, headers=actor.signed(url, body) | headers)


async def apply_all(fed) -> None:
    for item_id in await InboxItem.filter(state=InboxState.PENDING).values_list("id", flat=True):
        await dispatch.process(fed, item_id)


async def test_a_signed_create_from_an_unknown_actor_is_stored_then_applied(
    peer_client, fed, fediverse, settings
):
    alice, _ = await member(settings, "alice")
    rob = fediverse.server("remote.example").actor("rob")
    activity = create_note(rob, f"{rob.id}/statuses/1", "<p>hi alice</p>", [alice.uri])

    response = await post(peer_client, rob, activity)

    # Then the key was fetched, the activity stored before the 202, and applied by the worker
    assert response.status_code == 202
    item = await InboxItem.get(activity_id=activity["id"])
    assert (item.actor_uri, item.key_id) == (rob.id, rob.key_id)
    await apply_all(fed)
    stored = await Post.get(uri=activity["object"]["id"])
    assert stored.local is False
    assert await Notification.filter(recipient_id=alice.id, type="mention").exists()


async def test_an_unsigned_post_is_401_and_stored_nowhere(client, fediverse):
    rob = fediverse.server("remote.example").actor("rob")
    activity = create_note(rob, f"{rob.id}/statuses/1", "<p>hi</p>", [])

    response = await client.post(INBOX, data=orjson.dumps(activity),
                                 headers={"Content-Type": "application/activity+json"})  # fmt: skip

    assert response.status_code == 401
    assert "error" in await response.get_json()
    assert not await InboxItem.exists()


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"type": "Create"}', b"{}"])
async def test_a_body_that_is_not_an_activity_is_400(client, fediverse, body):
    rob = fediverse.server("remote.example").actor("rob")

    response = await client.post(INBOX, data=body, headers=rob.signed(INBOX, body))

    assert response.status_code == 400
    assert not await InboxItem.exists()


async def test_a_body_over_one_megabyte_is_413(client, fediverse):
    rob = fediverse.server("remote.example").actor("rob")
    activity = create_note(rob, f"{rob.id}/statuses/1", "<p>" + "x" * 1_100_000 + "</p>", [])

    response = await post(client, rob, activity)

    assert response.status_code == 413
    assert not await InboxItem.exists()


async def test_a_blocked_domain_is_403(client, fediverse):
    await Domain.create(domain="remote.example", blocked=True)
    rob = fediverse.server("remote.example").actor("rob")

    response = await post(client, rob, create_note(rob, f"{rob.id}/statuses/1", "<p>x</p>", []))

    assert response.status_code == 403
    assert not await InboxItem.exists()


async def test_the_same_activity_twice_is_accepted_and_stored_once(peer_client, fediverse):
    rob = fediverse.server("remote.example").actor("rob")
    activity = create_note(rob, f"{rob.id}/statuses/1", "<p>once</p>", [])

    first = await post(peer_client, rob, activity)
    again = await post(peer_client, rob, activity)

    assert (first.status_code, again.status_code) == (202, 202)
    assert await InboxItem.filter(activity_id=activity["id"]).count() == 1


async def test_a_delete_of_an_actor_we_never_knew_is_accepted_without_a_fetch(
    peer_client, fediverse
):
    server = fediverse.server("remote.example")
    gone = server.actor("gone")
    del server.documents[gone.id]  # its key can no longer be fetched (410 in real life)
    activity = {
        "id": f"{gone.id}#delete",
        "type": "Delete",
        "actor": gone.id,
        "object": gone.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }

    response = await post(peer_client, gone, activity)

    assert response.status_code == 202
    assert not await InboxItem.exists()


async def test_a_rotated_key_is_fetched_again_once(peer_client, fed, fediverse, settings):
    rob = fediverse.server("remote.example").actor("rob", key_index=0)
    first = create_note(rob, f"{rob.id}/statuses/1", "<p>old key</p>", [])
    assert (await post(peer_client, rob, first)).status_code == 202

    rob.rotate_key(1)
    second = create_note(rob, f"{rob.id}/statuses/2", "<p>new key</p>", [])

    assert (await post(peer_client, rob, second)).status_code == 202
    assert await InboxItem.filter(activity_id=second["id"]).exists()


async def test_an_unknown_activity_type_is_stored_and_ignored(peer_client, fed, fediverse):
    rob = fediverse.server("remote.example").actor("rob")
    activity = {
        "id": f"{rob.id}#add/1",
        "type": "Add",
        "actor": rob.id,
        "object": f"{rob.id}/statuses/1",
        "target": f"{rob.id}/collections/featured",
    }

    assert (await post(peer_client, rob, activity)).status_code == 202
    await apply_all(fed)

    assert (await InboxItem.get(activity_id=activity["id"])).state is InboxState.IGNORED


def fixture_activity(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.mark.parametrize(
    "name",
    ["mastodon-create-note", "gotosocial-create-note", "misskey-create-note",
     "pleroma-create-note", "hollo-create-note"],
)  # fmt: skip
async def test_a_real_servers_create_becomes_a_post_in_a_followers_home(
    peer_client, fed, fediverse, settings, name
):
    """Each server's own dialect (to/cc as strings, as:Public, contentMap, tags as an object,
    replies to posts we do not hold) becomes a post its local follower sees: on the author's
    profile, and in home unless it replies to a post we do not hold (Mastodon's
    filter_from_home: its author is unknown, so not someone the follower follows)."""
    activity = fixture_activity(name)
    activity.pop("signature", None)  # an LD signature by a key we do not know: ignored anyway
    actor_id = activity["actor"]
    author = fediverse.server(actor_id.split("/")[2]).actor("author", actor_id=actor_id)
    alice, token = await member(settings, "alice")
    # Given alice follows the author (the key fetch made its account)
    inbox = "https://starling.test/users/alice/inbox"
    assert (await post(peer_client, author, activity, url=inbox)).status_code == 202
    remote = await Account.get(uri=actor_id)
    await Follow.create(follower_id=alice.id, followee_id=remote.id, state=FollowState.ACCEPTED)

    await apply_all(fed)
    await drain(settings)

    note = activity["object"]
    assert "<script" not in (await Post.get(uri=note["id"])).html
    profile = await peer_client.get(f"/api/v1/accounts/{remote.id}/statuses", headers=bearer(token))
    assert note["id"] in [status["uri"] for status in await profile.get_json()]
    home = await peer_client.get("/api/v1/timelines/home", headers=bearer(token))
    in_home = note["id"] in [status["uri"] for status in await home.get_json()]
    assert in_home == (note.get("inReplyTo") is None)


def proving_actor(fediverse: Fediverse):
    """A Fedify-style actor: an RSA key for HTTP signatures and an Ed25519 Multikey for proofs."""
    private = Ed25519PrivateKey.generate()
    server = fediverse.server("fedify.example")
    key_id = "https://fedify.example/users/fay#ed25519-key"
    multikey = {
        "id": key_id,
        "type": "Multikey",
        "controller": "https://fedify.example/users/fay",
        "publicKeyMultibase": proofs.ed25519_to_multikey(private.public_key()),
    }
    return server.actor("fay", assertionMethod=[multikey]), private, key_id


async def test_an_embedded_integrity_proof_is_verified_when_the_key_is_known(
    peer_client, fediverse
):
    fay, private, key_id = proving_actor(fediverse)
    activity = create_note(fay, f"{fay.id}/statuses/1", "<p>proven</p>", [])
    signed = proofs.sign_document(activity, private, key_id, datetime.now(UTC))

    assert (await post(peer_client, fay, signed)).status_code == 202

    assert (await InboxItem.get(activity_id=activity["id"])).proof == "verified"


async def test_a_proof_that_does_not_verify_is_recorded_and_does_not_fail_the_activity(
    peer_client, fediverse
):
    fay, private, key_id = proving_actor(fediverse)
    activity = create_note(fay, f"{fay.id}/statuses/2", "<p>as signed</p>", [])
    signed = proofs.sign_document(activity, private, key_id, datetime.now(UTC))
    signed["object"]["content"] = "<p>changed after the proof</p>"

    assert (await post(peer_client, fay, signed)).status_code == 202

    assert (await InboxItem.get(activity_id=activity["id"])).proof == "invalid"


async def test_nul_characters_from_a_peer_are_dropped_not_a_500(
    peer_client, fed, fediverse, settings
):
    """PostgreSQL stores NUL neither in text nor in jsonb: a peer's NULs are dropped."""
    alice, _ = await member(settings, "alice")
    rob = fediverse.server("remote.example").actor("rob", name="Rob\x00by")
    activity = create_note(rob, f"{rob.id}/statuses/nul", "<p>a\x00b</p>", [alice.uri])

    response = await post(peer_client, rob, activity)

    assert response.status_code == 202
    await apply_all(fed)
    assert (await Post.get(uri=activity["object"]["id"])).html == "<p>ab</p>"
    assert (await Account.get(uri=rob.id)).display_name == "Robby"
