"""Discovery as peers use it: WebFinger, host-meta, NodeInfo, actors, the instance actor, and
content negotiation on our URLs (Mastodon's spec pages "webfinger" and "activitypub")."""

from __future__ import annotations

import pytest

from models.accounts import Account
from services import posting
from tests.factories import member

AS2 = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


async def test_webfinger_answers_an_acct_with_self_and_profile_links(client, settings):
    alice, _ = await member(settings, "alice")

    response = await client.get(
        "/.well-known/webfinger", query_string={"resource": "acct:alice@starling.test"}
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/jrd+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    jrd = await response.get_json()
    assert jrd["subject"] == "acct:alice@starling.test"
    assert set(jrd["aliases"]) == {alice.uri, "https://starling.test/@alice"}
    links = {link["rel"]: link for link in jrd["links"]}
    assert links["self"] == {"rel": "self", "type": AS2, "href": alice.uri}
    assert links["http://webfinger.net/rel/profile-page"]["href"] == "https://starling.test/@alice"


@pytest.mark.parametrize(
    "resource",
    ["https://starling.test/users/alice", "https://starling.test/@alice", "alice@starling.test"],
)
async def test_webfinger_answers_the_actor_url_and_plain_acct_forms(client, settings, resource):
    await member(settings, "alice")

    response = await client.get("/.well-known/webfinger", query_string={"resource": resource})

    assert (await response.get_json())["subject"] == "acct:alice@starling.test"


@pytest.mark.parametrize(
    "resource",
    ["acct:nobody@starling.test", "acct:alice@other.example", "https://other.example/users/alice"],
)
async def test_webfinger_is_404_for_unknown_or_foreign_resources(client, settings, resource):
    await member(settings, "alice")

    response = await client.get("/.well-known/webfinger", query_string={"resource": resource})

    assert response.status_code == 404


async def test_webfinger_without_a_resource_is_400(client):
    assert (await client.get("/.well-known/webfinger")).status_code == 400


async def test_host_meta_points_at_webfinger_on_exactly_our_domain(client):
    response = await client.get("/.well-known/host-meta")

    assert response.status_code == 200
    assert "xrd+xml" in response.headers["Content-Type"]
    body = await response.get_data(as_text=True)
    assert 'template="https://starling.test/.well-known/webfinger?resource={uri}"' in body


async def test_nodeinfo_links_both_versions_with_real_counts(client, backends, settings):
    alice, _ = await member(settings, "alice")
    await member(settings, "bob")
    await posting.create_post(backends, alice.id, posting.NewPost(text="one post"))

    links = (await (await client.get("/.well-known/nodeinfo")).get_json())["links"]
    assert [link["href"] for link in links] == [
        "https://starling.test/nodeinfo/2.0",
        "https://starling.test/nodeinfo/2.1",
    ]
    for version in ("2.0", "2.1"):
        response = await client.get(f"/nodeinfo/{version}")
        assert f"nodeinfo.diaspora.software/ns/schema/{version}" in response.headers["Content-Type"]
        document = await response.get_json()
        assert document["version"] == version
        assert document["software"]["name"] == "starling"
        assert document["protocols"] == ["activitypub"]
        assert document["usage"]["users"]["total"] == 2
        assert document["usage"]["localPosts"] == 1
        assert document["openRegistrations"] is True


async def test_an_unknown_nodeinfo_version_is_404(client):
    assert (await client.get("/nodeinfo/9.9")).status_code == 404


async def test_an_actor_is_a_person_with_everything_mastodon_reads(client, settings):
    alice, _ = await member(settings, "alice")

    response = await client.get("/users/alice", headers={"Accept": AS2})

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(AS2)
    actor = await response.get_json()
    base = "https://starling.test/users/alice"
    assert actor["id"] == alice.uri == base
    assert actor["type"] == "Person"
    assert actor["preferredUsername"] == "alice"
    for name, value in {"inbox": f"{base}/inbox", "outbox": f"{base}/outbox",
                        "followers": f"{base}/followers", "following": f"{base}/following",
                        "featured": f"{base}/collections/featured",
                        "url": "https://starling.test/@alice"}.items():  # fmt: skip
        assert actor[name] == value
    assert actor["endpoints"] == {"sharedInbox": "https://starling.test/inbox"}
    assert actor["publicKey"]["id"] == f"{base}#main-key"
    assert actor["publicKey"]["owner"] == base
    assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert actor["manuallyApprovesFollowers"] is False
    assert actor["discoverable"] is True
    assert actor["published"].endswith("Z")
    assert actor["icon"]["url"].endswith("/static/avatar.png")
    assert actor["image"]["url"].endswith("/static/header.png")
    assert {"name", "summary"} <= actor.keys()


async def test_the_instance_actor_signs_for_nobody_in_particular(client):
    response = await client.get("/actor", headers={"Accept": AS2})

    actor = await response.get_json()
    assert actor["id"] == "https://starling.test/actor"
    assert actor["type"] == "Application"
    assert actor["preferredUsername"] == "starling.test"
    assert actor["publicKey"]["owner"] == actor["id"]
    assert actor["inbox"] == "https://starling.test/actor/inbox"
    finger = await client.get(
        "/.well-known/webfinger", query_string={"resource": "acct:starling.test@starling.test"}
    )
    assert (await finger.get_json())["links"][1]["href"] == actor["id"]
    assert await Account.filter(uri=actor["id"]).count() == 1  # made once


@pytest.mark.parametrize("accept", [AS2, LD, "application/json"])
async def test_the_profile_url_serves_the_actor_to_peers(client, settings, accept):
    await member(settings, "alice")

    response = await client.get("/@alice", headers={"Accept": accept})

    assert (await response.get_json())["id"] == "https://starling.test/users/alice"


async def test_the_actor_url_sends_browsers_to_the_profile_page(client, settings):
    await member(settings, "alice")

    response = await client.get("/users/alice", headers={"Accept": "text/html"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/@alice")
    page = await client.get("/@alice", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "@alice@starling.test" in await page.get_data(as_text=True)


async def test_an_unknown_actor_is_404(client):
    assert (await client.get("/users/nobody", headers={"Accept": AS2})).status_code == 404
