from datetime import timedelta

import pytest
from tortoise.timezone import now

from models.federation import Delivery, DeliveryState, InboxItem, InboxState
from models.oauth import Application, AuthorizationCode
from services.accounts import NewAccount, create_local_account
from tests.drain import drain
from workers.settings import build_search_worker, build_worker


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


async def test_worker_purges_finished_federation_rows_after_a_week(settings, backends):
    # Given finished and pending rows, some older than a week
    user = await create_local_account(
        settings, NewAccount(username="dora", email="dora@example.com", password="password123")
    )
    old = now() - timedelta(days=8)
    common = {"inbox": "https://x.example/inbox", "payload": {}, "signer_id": user.account_id}
    kept = [
        await Delivery.create(activity_id="a1", state=DeliveryState.DELIVERED, **common),
        await Delivery.create(activity_id="a2", state=DeliveryState.PENDING, **common),
    ]
    gone = await Delivery.create(activity_id="a3", state=DeliveryState.FAILED, **common)
    await Delivery.filter(id__in=[kept[1].id, gone.id]).update(created_at=old)
    item = {"activity_type": "Like", "actor_uri": "https://x.example/u", "payload": {}}
    await InboxItem.create(activity_id="i1", state=InboxState.DONE, **item)
    waiting = await InboxItem.create(activity_id="i2", state=InboxState.PENDING, **item)
    await InboxItem.filter(id__isnull=False).update(created_at=old)

    # When the job runs through the real queue and a worker
    await backends.queue.enqueue_job("purge_finished_federation_rows")
    assert await drain(settings) == 1

    # Then only what is finished and old is gone: pending rows stay, whatever their age
    assert sorted(d.id for d in await Delivery.all()) == sorted(d.id for d in kept)
    assert [i.id for i in await InboxItem.all()] == [waiting.id]


class StartUpFailed(Exception):
    pass


async def _start_up_fails(_ctx):
    # As when a SIGINT or an error arrives while the backends are still opening.
    raise StartUpFailed


@pytest.mark.parametrize("build", [build_worker, build_search_worker], ids=["jobs", "search"])
async def test_a_worker_whose_start_up_never_finished_closes_cleanly(settings, backends, build):
    worker = build(
        settings, burst=True, cron_jobs=None, handle_signals=False, on_startup=_start_up_fails
    )
    with pytest.raises(StartUpFailed):
        await worker.main()

    # arq runs the shutdown hook on close all the same: it must not assume start-up finished
    await worker.close()
