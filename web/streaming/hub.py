"""This web process's end of the streaming bus: one Redis pub/sub connection subscribed to the
channels its open streams need, one Postgres LISTEN for new notifications, and the routing of
each event to the local streams that may see it (the timelines' visibility, block and mute
rules, through ``services.statuses.is_visible``). Each event is loaded and rendered once per
process, whatever the number of subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

import orjson
from redis.exceptions import RedisError

from instance.config import Settings
from services import notifications, pg_listen, statuses, streams
from services.backends import Backends
from services.errors import NotFound
from services.postcache import Snapshot
from services.statuses import Hydrated, ViewerState
from web.api.entities import render_account, render_status
from web.api.notifications import render_notification
from web.streaming.connection import Connection, Stream

log = logging.getLogger(__name__)

SUBSCRIBE_TIMEOUT_SECONDS = 5.0
NOTICE_BACKLOG = 10_000
RETRY_SECONDS = 1.0
NOTIFICATION_STREAMS = ("user", "user:notification")
RENDERED_TTL_SECONDS = 2.0
RENDERED_KEPT = 256

Rendered = tuple[Hydrated, dict[str, Any], str]  # the post loaded, its Status, that as JSON


def channel_for(stream: Stream, account_id: int | None) -> str | None:
    """The Redis channel a stream reads (None: notifications only, which come from Postgres)."""
    match stream.name:
        case "user" | "direct":
            return streams.timeline_channel(account_id or 0)
        case "public":
            return streams.public_channel()
        case "public:local":
            return streams.public_channel(local=True)
        case "public:remote":
            return streams.public_channel(remote=True)
        case "hashtag":
            return streams.hashtag_channel(stream.tag or "")
        case "hashtag:local":
            return streams.hashtag_channel(stream.tag or "", local=True)
    return None


class Hub:
    def __init__(self, backends: Backends, settings: Settings) -> None:
        self.redis, self.settings = backends.redis, settings
        # On a Redis Cluster cache, a plain connection to one node (Backends.subscriber).
        self._pubsub = backends.subscriber().pubsub()
        self._control = f"{streams.PREFIX}hub:{uuid.uuid4().hex}"  # keeps the pubsub subscribed
        self._channels: dict[str, dict[Connection, set[Stream]]] = defaultdict(dict)
        self._watchers: dict[int, dict[Connection, set[Stream]]] = defaultdict(dict)
        self._online: Counter[int] = Counter()
        self._confirmed: dict[str, asyncio.Future[None]] = {}
        self._notices: asyncio.Queue[tuple[int, int]] = asyncio.Queue(NOTICE_BACKLOG)
        self._listener = pg_listen.Listener(
            settings.database.url, streams.NOTIFY_CHANNEL, self._notified
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._recent: dict[tuple[str, int], tuple[float, Rendered]] = {}

    async def start(self) -> None:
        await self._pubsub.subscribe(self._control)
        self._listener.start()
        self._tasks = [
            asyncio.create_task(self._read()),
            asyncio.create_task(self._deliver_notices()),
            asyncio.create_task(self._keep_online()),
        ]

    async def stop(self) -> None:
        await self._listener.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(RedisError, OSError):
            await self._pubsub.aclose()

    # --- subscribers ---------------------------------------------------------------------

    async def add(self, connection: Connection, stream: Stream) -> None:
        """Route ``stream``'s events to ``connection`` from now on (once this returns, the
        subscription is in place: nothing published after is missed)."""
        account = connection.account_id
        if account is not None:
            await self._attach(connection, account)
        wants_notices = stream.name in NOTIFICATION_STREAMS and connection.notifications
        if wants_notices and account is not None:
            self._watchers[account].setdefault(connection, set()).add(stream)
            with contextlib.suppress(TimeoutError):
                listening = self._listener.listening.wait()
                await asyncio.wait_for(listening, SUBSCRIBE_TIMEOUT_SECONDS)
        channel = channel_for(stream, account)
        if channel is None:
            return
        listeners = self._channels[channel]
        first = not listeners
        listeners.setdefault(connection, set()).add(stream)
        await self._subscribed(channel, first)

    async def _attach(self, connection: Connection, account: int) -> None:
        """A signed-in connection hears its account's channel whatever it streams: that
        channel says when the account's blocks, mutes or follows changed ("_relations")."""
        channel = streams.timeline_channel(account)
        listeners = self._channels[channel]
        if connection in listeners:
            return
        first = not listeners
        listeners[connection] = set()
        self._online[account] += 1
        if self._online[account] == 1:
            await streams.keep_online(self.redis, [account])
        await self._subscribed(channel, first)

    async def remove(self, connection: Connection, stream: Stream | None = None) -> None:
        """Stop ``stream`` (every stream of the connection, and the connection, when None)."""
        account = connection.account_id
        held = self._watchers.get(account or 0, {}).get(connection)
        if held is not None:
            held.difference_update(set(held) if stream is None else {stream})
            if not held:
                self._forget(self._watchers, account, connection)
        own = streams.timeline_channel(account) if account is not None else None
        for channel in [c for c, listeners in self._channels.items() if connection in listeners]:
            held = self._channels[channel][connection]
            held.difference_update(set(held) if stream is None else {stream})
            if held or (channel == own and stream is not None):
                continue  # still wanted: its own channel stays until the connection ends
            self._forget(self._channels, channel, connection)
            if channel == own and account is not None:
                self._online[account] -= 1
                if self._online[account] <= 0:
                    del self._online[account]
            if channel not in self._channels:
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.unsubscribe(channel)

    @staticmethod
    def _forget(
        table: dict[Any, dict[Connection, set[Stream]]], key: Any, connection: Connection
    ) -> None:
        del table[key][connection]
        if not table[key]:
            del table[key]

    async def _subscribed(self, channel: str, first: bool) -> None:
        """Return once Redis has confirmed the channel's subscription: the first listener
        subscribes, a later one waits for that confirmation if it has not come yet."""
        if first:
            confirmed = self._confirmed.setdefault(
                channel, asyncio.get_running_loop().create_future()
            )
            await self._pubsub.subscribe(channel)
        elif (pending := self._confirmed.get(channel)) is not None:
            confirmed = pending
        else:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(confirmed), SUBSCRIBE_TIMEOUT_SECONDS)

    # --- Redis events --------------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except (RedisError, OSError) as exc:
                log.warning("streaming: Redis pub/sub lost: %s", exc)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if message is None:
                continue
            channel = message["channel"].decode()
            if message["type"] == "subscribe":
                waiting = self._confirmed.pop(channel, None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(None)
            elif message["type"] == "message":
                try:
                    await self._route(channel, orjson.loads(message["data"]))
                except Exception:  # one bad event must not stop the process's streams
                    log.exception("streaming: cannot route an event on %s", channel)

    async def _route(self, channel: str, event: dict[str, Any]) -> None:
        listeners = list(self._channels.get(channel, {}).items())
        name, target = event["event"], int(event["id"])
        if not listeners:
            return
        if name == "_relations":
            for connection, _ in listeners:
                connection.relations_changed()
        elif name == "_access":
            for connection, _ in listeners:
                await connection.recheck()
        elif name == "delete":
            for connection, held in listeners:
                for stream in held:
                    connection.send(stream, "delete", str(target))
        elif name in ("update", "status.update", "conversation"):
            await self._route_post(name, target, listeners)

    async def _route_post(
        self, name: str, post_id: int, listeners: list[tuple[Connection, set[Stream]]]
    ) -> None:
        rendered = await self._rendered(name, post_id)
        if rendered is None:
            return  # deleted already
        loaded, status, payload = rendered
        post = loaded.posts[0]
        for connection, held in listeners:
            # The `direct` stream hears conversations only; the `user` stream everything else.
            wanted = [s for s in held if (s.name == "direct") == (name == "conversation")]
            if not wanted:
                continue
            viewer = await connection.relations()
            if not statuses.is_visible(post, loaded, viewer, hide_muted=True):
                continue
            if name == "conversation":
                payload = orjson.dumps(self._conversation(post, loaded, status, viewer)).decode()
            for stream in wanted:
                connection.send(stream, name, payload)

    async def _rendered(self, name: str, post_id: int) -> Rendered | None:
        """A post loaded and rendered once for the burst of events a fan-out sends (one per
        follower's channel), kept for a couple of seconds. Not an edit's: a second edit within
        them would be sent as the first."""
        moment = time.monotonic()
        key = (name, post_id)
        found = self._recent.get(key)
        if found is not None and moment - found[0] < RENDERED_TTL_SECONDS:
            return found[1]
        loaded = await statuses.load(self.redis, [post_id])
        if not loaded.posts:
            return None
        status = render_status(loaded.posts[0], loaded, self.settings)
        rendered = (loaded, status, orjson.dumps(status).decode())
        if name != "status.update":
            self._recent[key] = (moment, rendered)
        while len(self._recent) > RENDERED_KEPT:
            self._recent.pop(next(iter(self._recent)))  # the oldest (dicts keep order)
        return rendered

    def _conversation(
        self, post: Snapshot, loaded: Hydrated, status: dict[str, Any], viewer: ViewerState
    ) -> dict[str, Any]:
        """Mastodon's Conversation entity for one direct post, as its participant ``viewer``
        sees it: the others in it, and the post as its last status (its id names the
        conversation: there is no conversations list to keep another one in)."""
        others = [post["author_id"], *post["mention_ids"]]
        accounts = [
            render_account(loaded.accounts[a], self.settings)
            for a in dict.fromkeys(others)
            if a != viewer.viewer_id and a in loaded.accounts
        ]
        unread = post["author_id"] != viewer.viewer_id
        return {"id": str(post["id"]), "unread": unread, "accounts": accounts,
                "last_status": status}  # fmt: skip

    # --- notifications (Postgres NOTIFY at commit) ----------------------------------------

    def _notified(self, payload: str) -> None:
        recipient, _, notification = payload.partition(" ")
        if int(recipient) in self._watchers:
            with contextlib.suppress(asyncio.QueueFull):  # live only: the list still has it
                self._notices.put_nowait((int(recipient), int(notification)))

    async def _deliver_notices(self) -> None:
        while True:
            recipient, notification_id = await self._notices.get()
            watchers = list(self._watchers.get(recipient, {}).items())
            try:
                found = await notifications.read_one(self.redis, recipient, notification_id)
            except NotFound:
                continue  # hidden (a block, a mute) or gone already
            except Exception:
                log.exception("streaming: cannot load notification %s", notification_id)
                continue
            entity = render_notification(found.items[0], found, self.settings)
            payload = orjson.dumps(entity).decode()
            for connection, held in watchers:
                for stream in held:
                    connection.send(stream, "notification", payload)

    async def _keep_online(self) -> None:
        """Refresh the online markers, and look again at every stream's token or session."""
        while True:
            await asyncio.sleep(streams.ONLINE_TTL_SECONDS / 3)
            if self._online:
                with contextlib.suppress(RedisError, OSError):
                    await streams.keep_online(self.redis, list(self._online))
            connections = {c for listeners in self._channels.values() for c in listeners}
            for connection in connections:
                try:
                    await connection.recheck()
                except Exception:  # Postgres or Redis away: look again next time
                    log.warning("streaming: cannot recheck a stream's access", exc_info=True)
