"""``make bench``: seed a realistic data set, start an instance (2 Hypercorn processes + 1
worker) and measure it against the targets in shared/PERF.md. Prints a table and writes
bench/results/latest.json. Benchmarks report; they never fail a build.

``python -m bench pages streaming`` runs only those parts (of ``measure.PARTS``; the floor
always runs, so each figure reads as a ratio of it).
``python -m bench load`` (``make bench-load``) runs the load test (bench/load.py), on instances
of its own; only when named.
"""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from redis.asyncio import Redis

from bench import load, measure, memory, search
from bench.seed import ACCOUNTS, POSTS, seed
from bench.wrk import Row, write_table
from instance.backing import ensure_database, resolve_backing_services
from instance.config import VERSION, load_settings
from models.migrate import apply_migrations
from tests.instances import RunningInstance, free_port, instance_env, start_instance
from tests.support import drop_database, redis_url_with_db, with_database_name

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BENCH_REDIS_DB = 14
WRK_RUNS = 3


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        print("bench: installing wrk (apt-get install -y wrk)")
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
        if shutil.which("wrk") is None:
            subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
        wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench: wrk is not available")
    return wrk


async def prepare(database_url: str, redis_url: str, base_url: str):  # type: ignore[no-untyped-def]
    await drop_database(database_url)
    await ensure_database(database_url)
    await apply_migrations(database_url)
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    started = time.perf_counter()
    seeded = await seed(database_url, base_url)
    took = time.perf_counter() - started
    print(f"bench: seeded {ACCOUNTS:,} accounts and {POSTS:,} posts in {took:.1f} s")
    return seeded


EXTRA_ENV: dict[str, str | None] = {
    "STARLING_SERVER_WORKERS": "2",
    "STARLING_INSTANCE_NAME": "Starling bench",
    # The delivery benchmark's peer is a sink on 127.0.0.1.
    "STARLING_FEDERATION_ALLOW_HTTP": "true",
    "STARLING_FEDERATION_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
}


def start(database_url: str, redis_url: str, tmp: Path, port: int) -> RunningInstance:
    return start_instance("bench", database_url, redis_url, tmp, port=port, extra_env=EXTRA_ENV)


def chosen_parts(args: list[str]) -> frozenset[str]:
    unknown = set(args) - set(measure.PARTS) - {load.PART}
    if unknown:
        raise SystemExit(
            f"bench: unknown part {sorted(unknown)}; parts: {', '.join(measure.PARTS)}, "
            f"{load.PART} (only when named)"
        )
    return frozenset(args or measure.PARTS)


def main(args: list[str]) -> None:
    parts = chosen_parts(args)
    wrk = ensure_wrk()
    base = load_settings()
    resolved, embedded = resolve_backing_services(base)
    database_url = with_database_name(resolved.database.url, "starling_bench")
    redis_url = redis_url_with_db(resolved.redis.url, BENCH_REDIS_DB)
    port = free_port()
    # First, on a small data set of its own: the instance `make run` starts.
    memory_rows = measured_memory(resolved.database.url, redis_url) if "memory" in parts else []
    # The load test (bench/load.py): its own instances, 1 then 2 web processes, its own table.
    if load.PART in parts:
        load.run(wrk, database_url, redis_url, prepare, EXTRA_ENV)
        if parts == {load.PART}:
            if embedded is not None:
                embedded.close()
            return
    seeded = asyncio.run(prepare(database_url, redis_url, f"http://127.0.0.1:{port}"))
    with tempfile.TemporaryDirectory() as tmp:
        env = instance_env(
            "bench", database_url, redis_url, Path(tmp), port=port, extra_env=EXTRA_ENV
        )
        # The search page is measured too: it needs the index.
        rebuilt = search.reindex(env) if parts & {"search", "pages"} else None
        instance = start(database_url, redis_url, Path(tmp), port)
        try:
            rows = asyncio.run(
                measure.run_all(instance, seeded, wrk, database_url, redis_url, WRK_RUNS, parts)
            )
            if rebuilt is not None:
                rows.append(rebuilt)
            rows += memory_rows
        finally:
            instance.stop()
            if embedded is not None:
                embedded.close()
    report(rows)


def measured_memory(server_url: str, redis_url: str) -> list[Row]:
    database_url = with_database_name(server_url, "starling_bench_memory")
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(memory.memory_rows(database_url, redis_url, Path(tmp)))


def report(rows: list[Row]) -> None:
    header = (
        f"Starling {VERSION} — Python {platform.python_version()}, {os.cpu_count()} cores; "
        f"{ACCOUNTS:,} accounts, {POSTS:,} posts; 2 Hypercorn processes + 1 worker; "
        f"wrk -t2 -c64 -d10s --latency, median of {WRK_RUNS}"
    )
    write_table(header, rows, RESULTS / "latest.json")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
