"""Token contexts kept in the web process (services/token_cache): a revocation made by another
process reaches this one over Redis pub/sub, and one made here takes effect at once."""

from __future__ import annotations

import asyncio

from tortoise.timezone import now

from models.oauth import AccessToken
from services import token_cache, tokens
from services.oauth import TOKEN_CACHE_KEY, revoke_token
from tests.factories import bearer, make_user, token_for


async def _until(condition) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(5):
        while not await condition():  # noqa: ASYNC110 - polls a server, no event
            await asyncio.sleep(0.02)


async def _answers(client, token: str) -> int:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/apps/verify_credentials", headers=bearer(token))
    return response.status_code


async def _kept(client, backends, token: str) -> None:  # type: ignore[no-untyped-def]
    """Read the token until this process listens for revocations and so keeps its context."""

    async def listening() -> bool:
        assert await _answers(client, token) == 200
        return backends.tokens.listening

    await _until(listening)
    assert await _answers(client, token) == 200  # now read and kept while listening


async def test_a_revocation_published_by_another_process_ends_the_kept_context(
    client, backends, settings
):
    token = await token_for(await make_user(settings), "read")
    await _kept(client, backends, token)
    digest = tokens.digest(token)
    # Another process revokes it: the row, the Redis entry, and its message.
    await AccessToken.filter(token_hash=digest).update(revoked_at=now())
    await backends.redis.delete(TOKEN_CACHE_KEY.format(digest))
    kept_meanwhile = await _answers(client, token)

    await backends.redis.publish(token_cache.CHANNEL, digest)

    assert kept_meanwhile == 200  # the process's copy, until it hears of the revocation
    await _until(lambda: _refused(client, token))


async def _refused(client, token: str) -> bool:  # type: ignore[no-untyped-def]
    return await _answers(client, token) == 401


async def test_a_revocation_made_here_ends_the_kept_context_at_once(client, backends, settings):
    token = await token_for(await make_user(settings), "read")
    await _kept(client, backends, token)

    await revoke_token(token, backends.redis)

    assert await _answers(client, token) == 401
