from datetime import timedelta

from tortoise.timezone import now

from models.oauth import Application, AuthorizationCode
from services.accounts import NewAccount, create_local_account
from tests.drain import drain


async def test_worker_purges_expired_and_used_authorization_codes(settings, backends):
    # Given one live, one expired and one redeemed code
    user = await create_local_account(
        settings, NewAccount(username="carol", email="carol@example.com", password="password123")
    )
    app = await Application.create(
        name="t", client_id="cid", client_secret_hash="x", redirect_uris="https://c.example/cb"
    )
    common = {"application": app, "user": user, "redirect_uri": "https://c.example/cb"}
    live = await AuthorizationCode.create(
        code_hash="live", scopes="read", expires_at=now() + timedelta(minutes=5), **common
    )
    await AuthorizationCode.create(
        code_hash="old", scopes="read", expires_at=now() - timedelta(minutes=1), **common
    )
    await AuthorizationCode.create(
        code_hash="used", scopes="read", expires_at=now() + timedelta(minutes=5),
        used_at=now(), **common,
    )  # fmt: skip

    # When the job runs through the real queue and a worker
    await backends.queue.enqueue_job("purge_expired_grants")
    assert await drain(settings) == 1

    # Then only the live code remains
    assert [code.id for code in await AuthorizationCode.all()] == [live.id]
