"""The publishing side of the streaming API (DESIGN.md "Streaming"): Redis pub/sub channels.

The code that already decides who gets a post (fan-out, delete, edit) publishes small events,
``{"event": "update", "id": 123}``, after its commit; every web process subscribes to the
channels its open streams need, renders each event once and checks each subscriber's blocks
and mutes (``web/streaming``). New notifications take another road to the same streams: a
trigger NOTIFYs at commit (``NOTIFY_CHANNEL``), whatever code path made them.

A reader's own channel is only published to while someone holds a stream for that account:
each web process keeps an ``ONLINE_KEY`` marker alive for the accounts it serves, so a post
to 50,000 followers costs a publish for the few hundred watching, not for all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import orjson
from redis.asyncio import Redis

from models.accounts import Account
from models.posts import Visibility
from services import domains, rediscluster
from services.postcache import Snapshot

PREFIX = "stream:"
ONLINE_KEY = "stream:online:{}"
ONLINE_TTL_SECONDS = 90  # refreshed every third of that by each web process with streams
NOTIFY_CHANNEL = "stream_notifications"  # Postgres LISTEN channel (migration 0009)
IDS_PER_CALL = 1000

# Publish ARGV[1] to the timeline channel of each account in ARGV[2..] that has a stream open.
_PUBLISH_ONLINE = """
local n = 0
for i = 2, #ARGV do
  if redis.call('EXISTS', 'stream:online:' .. ARGV[i]) == 1 then
    redis.call('PUBLISH', 'stream:timeline:' .. ARGV[i], ARGV[1])
    n = n + 1
  end
end
return n
"""


def timeline_channel(account_id: int) -> str:
    """A local account's own events: its home timeline's posts, deletes and edits."""
    return f"{PREFIX}timeline:{account_id}"


def public_channel(*, local: bool = False, remote: bool = False) -> str:
    return PREFIX + ("public:local" if local else "public:remote" if remote else "public")


def hashtag_channel(tag: str, *, local: bool = False) -> str:
    return f"{PREFIX}hashtag:{'local:' if local else ''}{tag.lower()}"


def event(name: str, target_id: int) -> bytes:
    return orjson.dumps({"event": name, "id": target_id})


def in_public_streams(post: Snapshot) -> bool:
    """The public timelines' rule (``timelines.read_public``): public, original, top-level."""
    return (
        post["visibility"] == Visibility.PUBLIC
        and post["boost_of_id"] is None
        and post["in_reply_to_id"] is None
        and post["in_reply_to_uri"] is None
    )


def in_hashtag_streams(post: Snapshot) -> bool:
    """The hashtag timelines' rule (``tags``): public posts, replies too, never boosts."""
    return post["visibility"] == Visibility.PUBLIC and post["boost_of_id"] is None


def broadcast_channels(post: Snapshot) -> list[str]:
    """The public and hashtag channels a post belongs on, by its own fields alone."""
    channels = []
    if in_public_streams(post):
        channels.append(public_channel())
        channels.append(public_channel(local=bool(post["local"]), remote=not post["local"]))
    if in_hashtag_streams(post):
        for tag in post["tags"]:
            channels.append(hashtag_channel(tag))
            if post["local"]:
                channels.append(hashtag_channel(tag, local=True))
    return channels


async def broadcast_for(redis: Redis, post: Snapshot) -> list[str]:
    """``broadcast_channels``, or none when the author or their domain is silenced (the
    public and hashtag timelines leave those out)."""
    channels = broadcast_channels(post)
    if not channels:
        return []
    row = await Account.filter(id=post["author_id"]).values("silenced_at", "domain")
    if not row or row[0]["silenced_at"] is not None:
        return []
    domain = row[0]["domain"]
    if domain is not None and domain.lower() in (await domains.states(redis)).silenced:
        return []
    return channels


async def publish(
    redis: Redis, name: str, target_id: int, readers: Iterable[int], channels: Sequence[str] = ()
) -> int:
    """Send one event to the streams of ``readers`` (local accounts) that are open, and to
    ``channels``; answers how many reader channels got it."""
    message = event(name, target_id)
    accounts = [str(a) for a in dict.fromkeys(readers)]
    if rediscluster.is_cluster(redis):
        sent = await _publish_online_pipelined(redis, message, accounts)
    else:
        sent = 0
        script = redis.register_script(_PUBLISH_ONLINE)
        for start in range(0, len(accounts), IDS_PER_CALL):
            sent += await script(keys=[], args=[message, *accounts[start : start + IDS_PER_CALL]])
    if channels:
        await rediscluster.publish(redis, channels, message)
    return sent


async def _publish_online_pipelined(redis: Redis, message: bytes, accounts: list[str]) -> int:
    """_PUBLISH_ONLINE for a Redis Cluster, where a script may only touch the keys it declares,
    all in one slot: EXISTS for every marker in one pipeline, then PUBLISH to those online. A
    stream opened between the two misses this event, as it would one published just before."""
    if not accounts:
        return 0
    async with redis.pipeline(transaction=False) as pipe:
        for account in accounts:
            pipe.exists(ONLINE_KEY.format(account))
        online = [a for a, found in zip(accounts, await pipe.execute(), strict=True) if found]
    if online:
        await rediscluster.publish(redis, [timeline_channel(int(a)) for a in online], message)
    return len(online)


async def relations_changed(redis: Redis, *account_ids: int) -> None:
    """Someone blocked, muted or unmuted: the open streams of these accounts reload what they
    filter by before their next event."""
    await publish(redis, "_relations", 0, account_ids)


async def access_changed(redis: Redis, *account_ids: int) -> None:
    """Tokens or sessions of these accounts were revoked: their open streams check theirs
    at once (they also do every ``ONLINE_TTL_SECONDS / 3``)."""
    await publish(redis, "_access", 0, account_ids)


async def keep_online(redis: Redis, account_ids: Iterable[int]) -> None:
    """Mark these accounts as watched for ``ONLINE_TTL_SECONDS`` more (a web process calls it
    for the accounts it holds streams for)."""
    async with redis.pipeline(transaction=False) as pipe:
        for account_id in account_ids:
            pipe.set(ONLINE_KEY.format(account_id), 1, ex=ONLINE_TTL_SECONDS)
        await pipe.execute()
