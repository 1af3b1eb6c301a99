"""The streaming API through clients written by others, against a running instance (Hypercorn,
web and worker): Mastodon.py's streaming listener (server-sent events, found through the URL
the instance advertises) and the ``websockets`` library."""

from __future__ import annotations

import asyncio
import json
import queue
from typing import Any

import websockets
from mastodon import Mastodon, StreamListener

from tests.api.test_mastodon_py_social import sign_up

WAIT = 15.0


class Collector(StreamListener):
    """Every event Mastodon.py parsed, in order, for the test thread to read."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()

    def on_update(self, status: Any) -> None:
        self.events.put(("update", status))

    def on_notification(self, notification: Any) -> None:
        self.events.put(("notification", notification))

    def on_delete(self, status_id: Any) -> None:
        self.events.put(("delete", status_id))

    def next(self) -> tuple[str, Any]:
        return self.events.get(timeout=WAIT)


def test_mastodon_py_streams_updates_notifications_and_deletes(instance):
    alice = sign_up(instance.base_url, "alice")
    bob = sign_up(instance.base_url, "bob")
    assert alice.stream_healthy()
    bob.account_follow(alice.me()["id"])
    listener = Collector()
    handle = bob.stream_user(listener, run_async=True)
    try:
        # An update the moment Alice posts (the worker's fan-out publishes it)
        post = alice.status_post("streamed to bob")
        kind, status = listener.next()
        assert (kind, str(status["id"])) == ("update", str(post["id"]))
        assert status["account"]["acct"] == "alice"
        # Alice likes Bob's post: a notification
        own = bob.status_post("bob's own")
        assert str(listener.next()[1]["id"]) == str(own["id"])  # his own post, in his home
        alice.status_favourite(own["id"])
        kind, notification = listener.next()
        assert (kind, notification["type"]) == ("notification", "favourite")
        assert str(notification["status"]["id"]) == str(own["id"])
        # Alice deletes her post: a delete with its id
        alice.status_delete(post["id"])
        kind, deleted = listener.next()
        assert (kind, str(deleted)) == ("delete", str(post["id"]))
    finally:
        handle.close()


async def _next(ws: Any) -> dict[str, Any]:
    frame = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    if frame["event"] != "delete":  # a delete's payload is the bare id
        frame["payload"] = json.loads(frame["payload"])
    return frame


async def test_websockets_client_follower_gets_what_a_stranger_never_does(instance):
    alice, bob, carol = (sign_up(instance.base_url, name) for name in ("alice", "bob", "carol"))
    bob.account_follow(alice.me()["id"])
    url = f"ws://{instance.domain}/api/v1/streaming"
    # The token as the WebSocket protocol (what Mastodon's web app sends), echoed back
    async with (
        websockets.connect(f"{url}?stream=user", subprotocols=[bob.access_token]) as follower,
        websockets.connect(url, additional_headers=_bearer(carol)) as stranger,
    ):
        assert follower.subprotocol == bob.access_token
        await stranger.send(json.dumps({"type": "subscribe", "stream": "user"}))
        await stranger.send(json.dumps({"type": "subscribe", "stream": "public"}))
        await stranger.send(json.dumps({"type": "subscribe", "stream": "nope"}))
        assert json.loads(await stranger.recv()) == {"error": "Unknown stream type", "status": 400}
        secret = alice.status_post("followers only", visibility="private")
        frame = await _next(follower)
        assert (frame["event"], str(frame["payload"]["id"])) == ("update", str(secret["id"]))
        assert frame["payload"]["visibility"] == "private"
        # A public post after it: the first frame the stranger gets is that one
        shout = alice.status_post("for everyone")
        frame = await _next(stranger)
        assert (frame["stream"], str(frame["payload"]["id"])) == (["public"], str(shout["id"]))
    refused = None
    try:
        async with websockets.connect(f"{url}?stream=user"):
            pass
    except websockets.InvalidStatus as exc:
        refused = exc.response.status_code
    assert refused == 401


def _bearer(api: Mastodon) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.access_token}"}
