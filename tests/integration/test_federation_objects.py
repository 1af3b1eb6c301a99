"""Our posts and collections as peers fetch them: Notes addressed as Mastodon addresses them,
their activities, the outbox and follower collections, and who may fetch private posts."""

from __future__ import annotations

from activitypub import signatures
from activitypub.vocab import PUBLIC
from models.accounts import Account
from models.posts import Visibility
from models.relationships import Follow, FollowState
from services import interactions, posting
from tests.factories import member
from tests.fakes import Fediverse

AS2 = {"Accept": "application/activity+json"}


async def remote(fediverse: Fediverse, name: str = "rob", host: str = "remote.example"):
    actor = fediverse.server(host).actor(name)
    account = await Account.create(
        username=name, domain=host, acct=f"{name}@{host}", uri=actor.id,
        inbox_uri=f"{actor.id}/inbox", public_key_id=actor.key_id,
        public_key=actor.keys.public_pem,
    )  # fmt: skip
    return actor, account


def signed_get(actor, url: str) -> dict[str, str]:
    return AS2 | signatures.sign_headers(
        "GET", url, AS2, None, key_id=actor.key_id, private_key_pem=actor.keys.private_pem
    )


async def write(backends, author: Account, text: str, visibility=Visibility.PUBLIC, **kw) -> str:
    new = posting.NewPost(text=text, visibility=visibility, **kw)
    post_id = await posting.create_post(backends, author.id, new)
    return f"{author.uri}/statuses/{post_id}"


async def test_a_public_note_is_addressed_to_everyone_and_the_followers(client, backends, settings):
    alice, _ = await member(settings, "alice")
    bob, _ = await member(settings, "bob")
    uri = await write(backends, alice, "hi @bob #birds")

    note = await (await client.get(uri, headers=AS2)).get_json()

    assert note["type"] == "Note"
    assert note["id"] == uri
    assert note["attributedTo"] == alice.uri
    assert note["to"] == [PUBLIC]
    assert note["cc"] == [alice.followers_uri, bob.uri]
    assert note["url"].startswith("https://starling.test/@alice/")
    assert note["published"].endswith("Z")
    tags = {(t["type"], t["name"], t["href"]) for t in note["tag"]}
    assert ("Mention", "@bob@starling.test", bob.uri) in tags
    assert ("Hashtag", "#birds", "https://starling.test/tags/birds") in tags
    assert 'href="https://starling.test/@bob"' in note["content"]


async def test_an_unlisted_note_puts_the_public_in_cc(client, backends, settings):
    alice, _ = await member(settings, "alice")
    uri = await write(backends, alice, "quietly", Visibility.UNLISTED)

    note = await (await client.get(uri, headers=AS2)).get_json()

    assert (note["to"], note["cc"]) == ([alice.followers_uri], [PUBLIC])


async def test_a_reply_names_its_parent(client, backends, settings):
    alice, _ = await member(settings, "alice")
    parent = await write(backends, alice, "first")
    parent_id = int(parent.rsplit("/", 1)[1])

    reply = await write(backends, alice, "second", in_reply_to_id=parent_id)

    assert (await (await client.get(reply, headers=AS2)).get_json())["inReplyTo"] == parent


async def test_a_post_activity_is_its_create(client, backends, settings):
    alice, _ = await member(settings, "alice")
    uri = await write(backends, alice, "created")

    create = await (await client.get(f"{uri}/activity", headers=AS2)).get_json()

    assert (create["type"], create["id"], create["actor"]) == (
        "Create",
        f"{uri}/activity",
        alice.uri,
    )
    assert create["object"]["id"] == uri


async def test_a_boost_is_an_announce(client, backends, settings):
    alice, _ = await member(settings, "alice")
    bob, _ = await member(settings, "bob")
    uri = await write(backends, alice, "boost me")
    boost_id = await interactions.boost(backends, bob.id, int(uri.rsplit("/", 1)[1]))

    url = f"{bob.uri}/statuses/{boost_id}/activity"
    announce = await (await client.get(url, headers=AS2)).get_json()

    assert (announce["type"], announce["actor"], announce["object"]) == ("Announce", bob.uri, uri)
    assert announce["to"] == [PUBLIC]
    assert alice.uri in announce["cc"]


async def test_the_outbox_pages_public_posts_as_activities(client, backends, settings):
    alice, _ = await member(settings, "alice")
    public = await write(backends, alice, "for everyone")
    await write(backends, alice, "for followers", Visibility.FOLLOWERS)

    outbox = await (await client.get(alice.outbox_uri, headers=AS2)).get_json()
    page = await (await client.get(outbox["first"], headers=AS2)).get_json()

    assert outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == 2
    assert page["type"] == "OrderedCollectionPage"
    assert [item["object"]["id"] for item in page["orderedItems"]] == [public]


async def test_followers_are_a_collection_with_a_count_and_pages(client, settings, fediverse):
    alice, _ = await member(settings, "alice")
    _, rob = await remote(fediverse)
    await Follow.create(follower=rob, followee=alice, state=FollowState.ACCEPTED)
    await Account.filter(id=alice.id).update(followers_count=1)

    collection = await (await client.get(alice.followers_uri, headers=AS2)).get_json()
    page = await (await client.get(collection["first"], headers=AS2)).get_json()

    assert collection["totalItems"] == 1
    assert page["orderedItems"] == [rob.uri]


async def test_a_followers_only_post_is_served_to_a_signed_fetch_by_a_follower(
    client, backends, settings, fediverse
):
    alice, _ = await member(settings, "alice")
    actor, rob = await remote(fediverse)
    await Follow.create(follower=rob, followee=alice, state=FollowState.ACCEPTED)
    uri = await write(backends, alice, "just followers", Visibility.FOLLOWERS)

    unsigned = await client.get(uri, headers=AS2)
    signed = await client.get(uri, headers=signed_get(actor, uri))

    assert unsigned.status_code == 404
    assert signed.status_code == 200
    assert (await signed.get_json())["to"] == [alice.followers_uri]


async def test_a_followers_only_post_is_404_to_a_signed_fetch_by_a_stranger(
    client, backends, settings, fediverse
):
    alice, _ = await member(settings, "alice")
    stranger, _ = await remote(fediverse, "sam")
    uri = await write(backends, alice, "just followers", Visibility.FOLLOWERS)

    assert (await client.get(uri, headers=signed_get(stranger, uri))).status_code == 404


async def test_a_direct_post_is_served_to_the_mentioned_only(client, backends, settings, fediverse):
    alice, _ = await member(settings, "alice")
    actor, rob = await remote(fediverse)
    stranger, _ = await remote(fediverse, "sam")
    uri = await write(backends, alice, "@rob@remote.example psst", Visibility.DIRECT)

    mentioned = await client.get(uri, headers=signed_get(actor, uri))

    assert mentioned.status_code == 200
    assert (await mentioned.get_json())["to"] == [rob.uri]
    assert (await client.get(uri, headers=signed_get(stranger, uri))).status_code == 404


async def test_a_fetch_whose_signature_does_not_hold_is_served_as_anonymous(
    client, backends, settings, fediverse
):
    """As Mastodon outside its secure mode: public posts still, private ones not."""
    alice, _ = await member(settings, "alice")
    actor, rob = await remote(fediverse)
    await Follow.create(follower=rob, followee=alice, state=FollowState.ACCEPTED)
    public = await write(backends, alice, "anything")
    private = await write(backends, alice, "followers", Visibility.FOLLOWERS)

    def forged(url: str) -> dict[str, str]:
        headers = signed_get(actor, url)
        headers["Signature"] = headers["Signature"].replace('signature="', 'signature="AAAA')
        return headers

    assert (await client.get(public, headers=forged(public))).status_code == 200
    assert (await client.get(private, headers=forged(private))).status_code == 404
