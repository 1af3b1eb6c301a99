"""Federation benchmarks: signed inbox POSTs accepted per second (wrk, the web processes) and
signed deliveries per second from one worker process (to a sink that answers 202 at once)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import orjson
from arq import create_pool

from activitypub.keys import KeyPair, generate_key_pair
from activitypub.signatures import HttpSigner, sign_headers
from bench.seed import Seeded
from bench.wrk import Row, WrkResult, fmt, median_wrk
from instance.backing import arq_redis_settings
from models.ids import next_id
from services import federate
from tests.instances import RunningInstance, free_port

INBOX_LUA = Path(__file__).with_name("inbox.lua")
SENDER_HOST = "sender.bench.example"
DELIVERIES = 5_000
WRK_THREADS = 2


@dataclass(frozen=True)
class Sender:
    uri: str
    key_id: str
    keys: KeyPair


async def seed_sender(database_url: str) -> Sender:
    """A remote actor whose key the instance already holds (the "cached key" case)."""
    keys = generate_key_pair()
    uri = f"https://{SENDER_HOST}/users/bench"
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO accounts (id, created_at, updated_at, username, domain, acct, uri, "
            "inbox_uri, public_key_id, public_key, note, note_source) "
            "VALUES ($1, now(), now(), 'bench', $2, $3, $4, $5, $6, $7, '', '')",
            next_id(), SENDER_HOST, f"bench@{SENDER_HOST}", uri, f"{uri}/inbox",
            f"{uri}#main-key", keys.public_pem,
        )  # fmt: skip
    finally:
        await conn.close()
    return Sender(uri, f"{uri}#main-key", keys)


def signed_creates(instance: RunningInstance, sender: Sender, count: int, run: int) -> Path:
    """``count`` signed Create activities, one a line, for inbox.lua."""
    url = f"{instance.base_url}/inbox"
    stamp = datetime.now(UTC).isoformat()
    lines = []
    for n in range(count):
        note = f"{sender.uri}/statuses/{run}-{n}"
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams", "id": f"{note}/activity",
            "type": "Create", "actor": sender.uri,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {"id": note, "type": "Note", "attributedTo": sender.uri,
                       "content": f"<p>benchmark post {n}</p>", "published": stamp,
                       "to": ["https://www.w3.org/ns/activitystreams#Public"]},
        }  # fmt: skip
        body = orjson.dumps(activity)
        headers = {"Content-Type": "application/activity+json"}
        signed = sign_headers("POST", url, headers, body, key_id=sender.key_id,
                              private_key_pem=sender.keys.private_pem)  # fmt: skip
        lines.append("\t".join([signed["Date"], signed["Digest"], signed["Signature"],
                                body.decode()]))  # fmt: skip
    handle = tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False)  # noqa: SIM115
    with handle:
        handle.write("\n".join(lines) + "\n")
    return Path(handle.name)


def inbox_throughput(
    instance: RunningInstance, sender: Sender, wrk: str, runs: int, per_run: int = 30_000
) -> WrkResult:
    """wrk against the shared inbox; every request a new activity (stored, then 202)."""
    files = [signed_creates(instance, sender, per_run, run) for run in range(runs)]
    results = []
    try:
        for path in files:
            env = {"BENCH_INBOX_FILE": str(path), "BENCH_THREADS": str(WRK_THREADS)}
            results.append(median_wrk(1, wrk, f"{instance.base_url}/inbox", script=INBOX_LUA,
                                      env=env))  # fmt: skip
    finally:
        for path in files:
            path.unlink(missing_ok=True)
    ordered = sorted(results, key=lambda r: r.rps)
    return ordered[len(ordered) // 2]


async def drain_inbox(database_url: str, limit: float = 600) -> tuple[int, float]:
    """Wait until the worker has applied every stored item; answers how many and how long
    after the load ended (so the delivery figure is not slowed by that backlog)."""
    conn = await asyncpg.connect(database_url)
    started = time.perf_counter()
    try:
        while await conn.fetchval("SELECT count(*) FROM inbox_items WHERE state = 'pending'"):
            if time.perf_counter() - started > limit:
                raise RuntimeError("the worker did not apply the inbox backlog in time")
            await asyncio.sleep(0.2)
        total = int(await conn.fetchval("SELECT count(*) FROM inbox_items"))
    finally:
        await conn.close()
    return total, max(time.perf_counter() - started, 0.001)


def start_sink() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.sink", str(port)])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/count", timeout=1)
            return process, port
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the delivery sink did not start")


async def signed_post_floor(count: int = 2_000, concurrency: int = 8) -> float:
    """What one process can do at best here: signed POSTs to the sink in a bare loop (httpx
    and RSA, no rows, no queue), at the per-domain concurrency the worker uses."""
    sink, port = start_sink()
    keys = generate_key_pair()
    auth = HttpSigner("https://bench.example/users/floor#main-key", keys.private_pem)
    body = b'{"type": "Create"}' * 20
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    try:
        async with httpx.AsyncClient(limits=limits) as client:
            slots = asyncio.Semaphore(concurrency)

            async def one() -> None:
                async with slots:
                    await client.post(f"http://127.0.0.1:{port}/inbox", content=body, auth=auth)

            started = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(count)))
            return count / (time.perf_counter() - started)
    finally:
        sink.terminate()
        sink.wait(timeout=10)


async def delivery_throughput(
    database_url: str, redis_url: str, signer_id: int, count: int = DELIVERIES
) -> tuple[float, int]:
    """Queue ``count`` deliveries to the sink and time the instance's one worker sending them
    all (signed, POSTed, recorded); answers deliveries per second and what the sink counted."""
    sink, port = start_sink()
    inbox = f"http://127.0.0.1:{port}/inbox"
    conn = await asyncpg.connect(database_url)
    pool = await create_pool(arq_redis_settings(redis_url))
    try:
        ids = [next_id() for _ in range(count)]
        payload = orjson.dumps({"type": "Create", "actor": "bench"}).decode()
        await conn.copy_records_to_table(
            "deliveries",
            records=[(i, datetime.now(UTC), f"https://bench.example/a/{i}", inbox,
                      f"127.0.0.1:{port}", payload, signer_id, "pending", 0, "") for i in ids],
            columns=["id", "created_at", "activity_id", "inbox", "domain", "payload",
                     "signer_id", "state", "attempts", "last_error"],
        )  # fmt: skip
        started = time.perf_counter()
        await federate.send(pool, ids)  # as posting does: batches of deliveries per job
        # The sink's domain is new each run: the (domain, state) index answers cheaply.
        while await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE domain = $1 AND state = 'pending'",
            f"127.0.0.1:{port}",
        ):
            if time.perf_counter() - started > 300:
                raise RuntimeError("deliveries did not finish within 5 minutes")
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - started
        async with httpx.AsyncClient() as client:
            received = int((await client.get(f"http://127.0.0.1:{port}/count", timeout=5)).text)
        return count / elapsed, received
    finally:
        await pool.aclose()
        await conn.close()
        sink.terminate()
        sink.wait(timeout=10)


async def federation_rows(
    instance: RunningInstance,
    seeded: Seeded,
    wrk: str,
    database_url: str,
    redis_url: str,
    runs: int,
    floor: WrkResult,
) -> list[Row]:
    """Inbox POSTs accepted per second, how fast the worker applies them, and deliveries per
    second from one worker process."""
    sender = await seed_sender(database_url)
    inbox = inbox_throughput(instance, sender, wrk, runs)
    rows = [
        Row("inbox POST accepted: signed Create, cached key, stored", fmt(inbox),
            ">= 2,000 req/s, p99 <= 50 ms"),
        Row("  ratio to floor", f"{inbox.rps / floor.rps:.0%}", ""),
    ]  # fmt: skip
    stored, seconds = await drain_inbox(database_url)
    rows.append(Row("  stored items applied by 1 worker", f"{stored:,} in {seconds:.1f} s "
                    f"({stored / seconds:,.0f}/s)", ""))  # fmt: skip
    floor_rate = await signed_post_floor()
    rows.append(Row("floor: signed POSTs, bare httpx loop, 1 process", f"{floor_rate:,.0f}/s",
                    "(what httpx and RSA allow here)"))  # fmt: skip
    rate, received = await delivery_throughput(database_url, redis_url, seeded.account_ids[0])
    rows.append(Row("signed deliveries from 1 worker process", f"{rate:,.0f}/s "
                    f"({received:,} received by the sink)", ">= 500/s"))  # fmt: skip
    rows.append(Row("  ratio to the signed-POST floor", f"{rate / floor_rate:.0%}", ""))
    return rows
