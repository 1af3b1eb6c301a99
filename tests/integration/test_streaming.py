"""Mastodon's streaming API as a client sees it: WebSocket and server-sent events carry
``update``, ``notification``, ``delete`` and ``status.update`` events to the people the
timelines would show them to, and never to anyone else."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart
from quart.testing.connections import WebsocketDisconnectError, WebsocketResponseError

from instance.app import create_app
from instance.config import Settings
from models.accounts import Account, Role
from services import moderation, streams
from services.backends import Backends
from tests.drain import drain
from tests.factories import bearer, member
from web.streaming import connection as stream_connection
from web.streaming import routes

WAIT = 5.0


@pytest.fixture
async def served(settings: Settings, backends: Backends) -> AsyncIterator[Quart]:
    """The app with its start-up and shut-down run, as Hypercorn runs them (the hub stops)."""
    app = create_app(settings, backends)
    async with app.test_app() as running:
        yield running.app


async def opened(*sockets: Any) -> None:
    """Wait for the upgrade, as a real client waits for its 101 (the test client does not)."""
    async with asyncio.timeout(WAIT):
        while not all(ws.accepted for ws in sockets):  # noqa: ASYNC110 - a flag, no event
            await asyncio.sleep(0.01)


class Socket:
    """A WebSocket client's view: frames decoded, payloads parsed."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def next(self) -> dict[str, Any]:
        frame = json.loads(await asyncio.wait_for(self.ws.receive(), WAIT))
        if isinstance(frame.get("payload"), str) and frame["event"] != "delete":
            frame["payload"] = json.loads(frame["payload"])
        return frame

    async def nothing(self) -> None:
        """No frame within half a second (events of a drained job arrive within milliseconds)."""
        try:
            frame = await asyncio.wait_for(self.ws.receive(), 0.5)
        except TimeoutError:
            return
        pytest.fail(f"unexpected frame: {frame}")

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))


async def post(client: Any, token: str, text: str, settings: Settings, **fields: Any) -> str:
    response = await client.post(
        "/api/v1/statuses", json={"status": text, **fields}, headers=bearer(token)
    )
    assert response.status_code == 200, await response.get_data(as_text=True)
    await drain(settings)  # the fan-out job publishes the event
    return (await response.get_json())["id"]


async def follow(client: Any, token: str, target: Account) -> None:
    response = await client.post(f"/api/v1/accounts/{target.id}/follow", headers=bearer(token))
    assert response.status_code == 200


async def test_user_stream_carries_posts_notifications_and_deletes(served, settings):
    client = served.test_client()
    _, alice_token = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    await follow(client, alice_token, bob)
    path = "/api/v1/streaming?stream=user"
    async with client.websocket(path, headers=bearer(alice_token)) as raw:
        await opened(raw)
        ws = Socket(raw)
        # A followed author's post arrives as an update, its payload a Status entity
        post_id = await post(client, bob_token, "hello stream", settings)
        frame = await ws.next()
        assert frame["stream"] == ["user"]
        assert frame["event"] == "update"
        assert frame["payload"]["id"] == post_id
        assert frame["payload"]["account"]["acct"] == "bob"
        assert "hello stream" in frame["payload"]["content"]

        # Bob likes Alice's post: Alice's stream carries the notification
        own_id = await post(client, alice_token, "my own", settings)
        assert (await ws.next())["payload"]["id"] == own_id  # her own post is in her home
        liked = await client.post(f"/api/v1/statuses/{own_id}/favourite", headers=bearer(bob_token))
        assert liked.status_code == 200
        frame = await ws.next()
        assert frame["event"] == "notification"
        assert frame["payload"]["type"] == "favourite"
        assert frame["payload"]["account"]["acct"] == "bob"
        assert frame["payload"]["status"]["id"] == own_id

        # Bob deletes his post: a delete event with the id as the payload
        deleted = await client.delete(f"/api/v1/statuses/{post_id}", headers=bearer(bob_token))
        assert deleted.status_code == 200
        frame = await ws.next()
        assert frame == {"stream": ["user"], "event": "delete", "payload": post_id}


async def test_a_stranger_never_sees_a_followers_only_post(served, settings):
    client = served.test_client()
    _, carol_token = await member(settings, "carol")
    bob, bob_token = await member(settings, "bob")
    _, fan_token = await member(settings, "fan")
    await follow(client, fan_token, bob)
    async with (
        client.websocket("/api/v1/streaming?stream=user", headers=bearer(carol_token)) as stranger,
        client.websocket("/api/v1/streaming?stream=public", headers=bearer(carol_token)) as public,
        client.websocket("/api/v1/streaming?stream=user", headers=bearer(fan_token)) as fan,
    ):
        await opened(stranger, public, fan)
        secret = await post(client, bob_token, "for followers", settings, visibility="private")
        # The follower gets it; the stranger's user and public streams do not
        assert (await Socket(fan).next())["payload"]["id"] == secret
        await Socket(stranger).nothing()
        await Socket(public).nothing()
        # A public post reaches the stranger's public stream (and not their home)
        shout = await post(client, bob_token, "for everyone", settings)
        assert (await Socket(public).next())["payload"]["id"] == shout
        await Socket(stranger).nothing()


async def test_public_streams_follow_the_public_timelines_rules(served, settings):
    client = served.test_client()
    _, bob_token = await member(settings, "bob")
    async with (
        client.websocket("/api/v1/streaming?stream=public:local") as local,
        client.websocket("/api/v1/streaming?stream=hashtag&tag=Birds") as tag,
    ):
        await opened(local, tag)
        # Anonymous public and hashtag streams, as Mastodon allows
        first = await post(client, bob_token, "a #birds post", settings)
        assert (await Socket(local).next())["payload"]["id"] == first
        frame = await Socket(tag).next()
        assert frame["stream"] == ["hashtag", "birds"]
        assert frame["payload"]["id"] == first
        # Unlisted posts and replies stay out of the public stream (replies with the tag
        # are on the hashtag one)
        await post(client, bob_token, "quiet #birds", settings, visibility="unlisted")
        reply = await post(client, bob_token, "reply #birds", settings, in_reply_to_id=first)
        assert (await Socket(tag).next())["payload"]["id"] == reply
        await Socket(local).nothing()


async def test_blocks_and_mutes_filter_every_stream(served, settings):
    client = served.test_client()
    alice, alice_token = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    dave, dave_token = await member(settings, "dave")
    await follow(client, alice_token, bob)
    await follow(client, alice_token, dave)
    async with (
        client.websocket("/api/v1/streaming?stream=user", headers=bearer(alice_token)) as home,
        client.websocket("/api/v1/streaming?stream=public", headers=bearer(alice_token)) as public,
    ):
        await opened(home, public)
        home_ws, public_ws = Socket(home), Socket(public)
        # Alice mutes Bob while her streams are open: his posts stop reaching either
        muted = await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=bearer(alice_token))
        assert muted.status_code == 200
        await post(client, bob_token, "muted words", settings)
        await home_ws.nothing()
        await public_ws.nothing()
        # Dave blocks Alice: his posts stop too (she no longer follows him)
        blocked = await client.post(
            f"/api/v1/accounts/{alice.id}/block", headers=bearer(dave_token)
        )
        assert blocked.status_code == 200
        await post(client, dave_token, "not for alice", settings)
        await home_ws.nothing()
        await public_ws.nothing()
        # Unmuted, Bob's next post arrives on both
        unmuted = await client.post(
            f"/api/v1/accounts/{bob.id}/unmute", headers=bearer(alice_token)
        )
        assert unmuted.status_code == 200
        again = await post(client, bob_token, "heard again", settings)
        assert (await home_ws.next())["payload"]["id"] == again
        assert (await public_ws.next())["payload"]["id"] == again


async def test_one_socket_subscribes_and_unsubscribes(served, settings):
    client = served.test_client()
    _, bob_token = await member(settings, "bob")
    async with client.websocket("/api/v1/streaming") as raw:
        ws = Socket(raw)
        await ws.send({"type": "subscribe", "stream": "hashtag", "tag": "cats"})
        await ws.send({"type": "subscribe", "stream": "public"})
        await ws.send({"type": "subscribe", "stream": "nonsense"})
        assert await ws.next() == {"error": "Unknown stream type", "status": 400}
        await ws.send({"type": "subscribe", "stream": "user"})
        assert await ws.next() == {"error": "Missing access token", "status": 401}
        # Both subscriptions carry the post, each naming its stream
        first = await post(client, bob_token, "#cats rule", settings)
        got = {tuple((await ws.next())["stream"]) for _ in range(2)}
        assert got == {("hashtag", "cats"), ("public",)}
        await ws.send({"type": "unsubscribe", "stream": "public"})
        await asyncio.sleep(0.1)
        second = await post(client, bob_token, "#cats again", settings)
        frame = await ws.next()
        assert (frame["stream"], frame["payload"]["id"]) == (["hashtag", "cats"], second)
        await ws.nothing()
        assert first != second


async def test_server_sent_events(served, settings):
    client = served.test_client()
    alice, alice_token = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    await follow(client, alice_token, bob)
    async with (
        client.request(
            "/api/v1/streaming/user/notification", headers=bearer(alice_token)
        ) as notices,
        client.request("/api/v1/streaming/public/local") as public,
    ):
        await notices.send_complete()
        await public.send_complete()
        assert await asyncio.wait_for(notices.receive(), WAIT) == b":)\n\n"
        assert await asyncio.wait_for(public.receive(), WAIT) == b":)\n\n"
        post_id = await post(client, bob_token, "hi @alice", settings)
        event, _, data = (await asyncio.wait_for(public.receive(), WAIT)).decode().partition("\n")
        assert event == "event: update"
        assert json.loads(data.removeprefix("data: "))["id"] == post_id
        chunk = (await asyncio.wait_for(notices.receive(), WAIT)).decode()
        assert chunk.startswith("event: notification\ndata: ")
        notice = json.loads(chunk.split("data: ", 1)[1])
        assert (notice["type"], notice["status"]["id"]) == ("mention", post_id)
        await notices.disconnect()  # the client goes: the server ends its stream
        await public.disconnect()
    assert alice.id != bob.id


async def test_health_and_refusals(served, settings):
    client = served.test_client()
    health = await client.get("/api/v1/streaming/health")
    assert (health.status_code, await health.get_data(as_text=True)) == (200, "OK")
    # The user stream needs a token; a bad one is refused before the upgrade
    refused = await client.get("/api/v1/streaming/user")
    assert refused.status_code == 401
    assert (await refused.get_json())["error"] == "Missing access token"
    with pytest.raises(WebsocketResponseError) as bad:
        async with client.websocket("/api/v1/streaming?stream=user", headers=bearer("no")) as ws:
            await asyncio.wait_for(ws.receive(), WAIT)
    assert bad.value.response.status_code == 401
    unknown = await client.get("/api/v1/streaming/elsewhere")
    assert unknown.status_code == 400
    no_tag = await client.get("/api/v1/streaming/hashtag")
    assert (await no_tag.get_json())["error"] == "No tag for stream provided"
    # A token without read access to statuses may not open one
    _, narrow = await member(settings, "narrow", "write")
    forbidden = await client.get("/api/v1/streaming/public", headers=bearer(narrow))
    assert forbidden.status_code == 403


async def test_the_token_may_come_as_the_websocket_protocol(served, settings):
    client = served.test_client()
    alice, token = await member(settings, "alice")
    # Quart's test client drops ``subprotocols``; the scope is where Hypercorn puts them.
    offered = {"subprotocols": [token]}
    async with client.websocket("/api/v1/streaming?stream=user", scope_base=offered) as raw:
        await opened(raw)
        _, bob_token = await member(settings, "bob")
        bob = await Account.get(username="bob")
        await follow(client, token, bob)
        post_id = await post(client, bob_token, "via protocol", settings)
        assert (await Socket(raw).next())["payload"]["id"] == post_id
    assert alice.username == "alice"


async def test_a_stream_that_falls_behind_is_dropped(served, settings, backends, monkeypatch):
    monkeypatch.setattr(stream_connection, "QUEUE_LIMIT", 3)
    client = served.test_client()
    _, bob_token = await member(settings, "bob")
    post_id = int(await post(client, bob_token, "one", settings))
    the_hub = await hub_of(served)
    slow = stream_connection.Connection(None)
    await the_hub.add(slow, stream_connection.Stream("public"))
    # Events keep coming while nothing reads them: past the limit the stream is dropped, and
    # what waits for it stays within the limit (the transports then close it)
    for _ in range(10):
        await streams.publish(backends.redis, "update", post_id, [], [streams.public_channel()])
    await asyncio.wait_for(slow.dropped.wait(), WAIT)
    assert slow.queue.qsize() == 3
    await the_hub.remove(slow)


async def hub_of(app: Quart) -> Any:
    async with app.app_context():
        return await routes.hub()


async def test_a_suspension_ends_the_accounts_open_streams(served, settings, backends):
    client = served.test_client()
    eve, eve_token = await member(settings, "eve")
    admin, _ = await member(settings, "boss")
    async with client.websocket("/api/v1/streaming?stream=public", headers=bearer(eve_token)) as ws:
        await opened(ws)
        await moderation.suspend(backends, eve.id, moderation.Moderator(admin.id, Role.ADMIN))
        # The socket closes with "policy violation": the token no longer opens anything
        with pytest.raises(WebsocketDisconnectError) as closed:
            await asyncio.wait_for(ws.receive(), WAIT)
        assert closed.value.args[0] == 1008


async def test_the_direct_stream_carries_conversations_to_their_participants(served, settings):
    client = served.test_client()
    _, alice_token = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    _, carol_token = await member(settings, "carol")
    async with (
        client.websocket("/api/v1/streaming?stream=direct", headers=bearer(bob_token)) as bob_dm,
        client.websocket("/api/v1/streaming?stream=user", headers=bearer(bob_token)) as bob_home,
        client.websocket("/api/v1/streaming?stream=direct", headers=bearer(carol_token)) as other,
    ):
        await opened(bob_dm, bob_home, other)
        # Alice writes to Bob, whom she does not follow nor he her: his direct stream has it
        secret = await post(client, alice_token, "@bob just us", settings, visibility="direct")
        frame = await Socket(bob_dm).next()
        assert (frame["stream"], frame["event"]) == (["direct"], "conversation")
        conversation = frame["payload"]
        assert conversation["last_status"]["id"] == secret
        assert [a["acct"] for a in conversation["accounts"]] == ["alice"]
        assert conversation["unread"] is True
        # ... and nobody else's; his user stream has the mention, not a home update (he does
        # not follow her)
        await Socket(other).nothing()
        frame = await Socket(bob_home).next()
        assert (frame["event"], frame["payload"]["type"]) == ("notification", "mention")
        await Socket(bob_home).nothing()
    assert bob.username == "bob"
