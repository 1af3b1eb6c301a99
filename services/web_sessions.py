"""Signed-in browser sessions of the web UI, kept in Redis so any web process can serve them.

The browser holds a random token in a cookie; Redis holds only its digest (a leaked Redis dump
signs nobody in), what the session is for, and a set of each user's sessions so a password
change can end the others. A session re-checks its login (disabled, suspended, unapproved)
once a minute, as API tokens do (services/oauth TOKEN_CACHE_TTL).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import orjson
from redis.asyncio import Redis

from models.accounts import User
from services import rediscluster, tokens
from services.oauth import TOKEN_CACHE_TTL, login_problem

SESSION_KEY = "websession:{}"
USER_SESSIONS_KEY = "websessions:user:{}"
FLASH_KEY = "websession:flash:{}"
LIFETIME_SECONDS = 30 * 24 * 3600
FLASH_SECONDS = 300


@dataclass(frozen=True)
class WebSession:
    """Who a browser is signed in as. ``digest`` names the session (never the raw token)."""

    digest: str
    user_id: int
    account_id: int
    checked_at: float


async def start(redis: Redis, user: User) -> str:
    """A new session for ``user``; answers the raw token for the cookie."""
    raw = tokens.new_secret()
    session = WebSession(tokens.digest(raw), user.id, user.account_id, time.time())  # type: ignore[attr-defined]
    await _save(redis, session)
    return raw


async def _save(redis: Redis, session: WebSession) -> None:
    async with rediscluster.pipeline(redis, atomic=True) as pipe:
        # SET with its expiry in one command: on a cluster the pipeline is not a transaction.
        key = SESSION_KEY.format(session.digest)
        pipe.set(key, orjson.dumps(asdict(session)), ex=LIFETIME_SECONDS)
        pipe.sadd(USER_SESSIONS_KEY.format(session.user_id), session.digest)
        pipe.expire(USER_SESSIONS_KEY.format(session.user_id), LIFETIME_SECONDS)
        await pipe.execute()


async def load(redis: Redis, raw: str) -> WebSession | None:
    """The live session of this token, or None (unknown, ended, expired, or its login barred)."""
    digest = tokens.digest(raw)
    stored = await redis.get(SESSION_KEY.format(digest))
    if stored is None:
        return None
    session = WebSession(**orjson.loads(stored))
    if time.time() - session.checked_at < TOKEN_CACHE_TTL:
        return session
    user = await User.filter(id=session.user_id).select_related("account").first()
    if user is None or login_problem(user):
        await _end(redis, session.user_id, [digest])
        return None
    fresh = WebSession(digest, session.user_id, session.account_id, time.time())
    await redis.set(SESSION_KEY.format(digest), orjson.dumps(asdict(fresh)), keepttl=True)
    return fresh


async def end(redis: Redis, session: WebSession) -> None:
    """Sign out: this session only."""
    await _end(redis, session.user_id, [session.digest])


async def end_others(redis: Redis, session: WebSession) -> int:
    """End every other session of the same user (after a password change); answers how many."""
    members = await redis.smembers(USER_SESSIONS_KEY.format(session.user_id))
    others = [m.decode() for m in members if m.decode() != session.digest]
    await _end(redis, session.user_id, others)
    return len(others)


async def end_all(redis: Redis, user_id: int) -> int:
    """End every session of a user (suspended or disabled by a moderator); answers how many."""
    members = await redis.smembers(USER_SESSIONS_KEY.format(user_id))
    await _end(redis, user_id, [m.decode() for m in members])
    return len(members)


async def _end(redis: Redis, user_id: int, digests: list[str]) -> None:
    if not digests:
        return
    async with rediscluster.pipeline(redis, atomic=True) as pipe:
        for d in digests:  # one key a DEL: on a cluster the keys lie in different slots
            pipe.delete(SESSION_KEY.format(d))
            pipe.delete(FLASH_KEY.format(d))
        pipe.srem(USER_SESSIONS_KEY.format(user_id), *digests)
        await pipe.execute()


# Flash messages: what the page after a redirect tells the user ("Posted", "Too long"...),
# with what they had typed, so a refused post is not lost.


async def flash(redis: Redis, session: WebSession, kind: str, message: str, **kept: str) -> None:
    value = orjson.dumps({"kind": kind, "message": message, "kept": kept})
    await redis.set(FLASH_KEY.format(session.digest), value, ex=FLASH_SECONDS)


async def take_flash(redis: Redis, session: WebSession) -> dict[str, object] | None:
    """The pending message, removed as it is read (shown once)."""
    raw = await redis.getdel(FLASH_KEY.format(session.digest))
    return orjson.loads(raw) if raw else None
