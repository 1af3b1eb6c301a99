"""The load test (issue 12, point 7): a mixed workload against the benchmark data set, with
streaming clients connected, on 1 and then 2 Hypercorn processes (one arq worker each time).

``python -m bench load`` (``make bench-load``); not part of the default ``make bench``, as it
takes 12–15 minutes (2 × (seeding, search index, warm-up, floor, 5 minutes of load)).
``BENCH_LOAD_SECONDS`` shortens the load (e.g. 30 while developing); ``BENCH_LOAD_PROCESSES``
chooses the configurations ("1,2", the default, or "2").

The mix (``MIX``): about 90 % reads (home, public, a profile, an account's posts, a thread),
5 % posts (some replying to the threads read) and 5 % favourites and boosts of existing
posts, drawn at random per request by wrk (bench/load.lua), 64 connections, with the seeded
viewers' tokens. Meanwhile 200 WebSockets on ``user`` streams and 50 server-sent-event
streams of ``public:local`` are held open by this process and count the events they hear.

Figures, all measured in the run:
- throughput and overall latency: wrk's own;
- per endpoint: the client-side time, request written to response parsed, which load.lua
  files by the request's kind (carried in X-Request-Id, which the app echoes): count, p50
  and p99 (each the upper bound of its 2.3 %-wide histogram bucket), and the statuses;
- errors: every non-2xx response (wrk's and ours), socket errors, and the non-2xx the app
  itself counted in its request histogram (``/metrics``, before and after);
- memory: RSS of every process of the instance (as bench/memory.py), when the load starts,
  halfway and at its end;
- the floor (``GET /health``, wrk -t2 -c64 -d10s) of each configuration, for the ratio.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import ClientConnection, connect

from bench import measure, memory, search
from bench.seed import ACCOUNTS, POSTS, Seeded
from bench.streaming import raise_open_files
from bench.wrk import Row, WrkResult, _ms, fmt, run_wrk, write_table
from tests.instances import RunningInstance, free_port, instance_env, start_instance

PART = "load"
LUA = Path(__file__).with_name("load.lua")
RESULTS = Path(__file__).with_name("results")
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "300"))
THREADS, CONNECTIONS = 2, 64
# Web processes of each configuration, in turn ("1,2"; "2" alone while developing).
WEB_PROCESSES = tuple(int(n) for n in os.environ.get("BENCH_LOAD_PROCESSES", "1,2").split(","))
# (kind in load.lua, weight in 100, what it is)
MIX = (
    ("home", 40, "GET /api/v1/timelines/home"),
    ("public", 15, "GET /api/v1/timelines/public"),
    ("account", 8, "GET /api/v1/accounts/:id"),
    ("account_posts", 12, "GET /api/v1/accounts/:id/statuses"),
    ("context", 15, "GET /api/v1/statuses/:id/context"),
    ("post", 3, "POST /api/v1/statuses"),
    ("reply", 2, "POST /api/v1/statuses (a reply)"),
    ("favourite", 3, "POST /api/v1/statuses/:id/favourite"),
    ("reblog", 2, "POST /api/v1/statuses/:id/reblog"),
)
LIKED_POSTS = 2_000  # random public posts, favourited and boosted
THREADS_READ = 200  # random public posts, read as threads and replied to
PROFILES = 2_000  # random accounts, their profile and posts read
USER_STREAMS = 200  # WebSockets, ``user`` stream, of accounts that are not the viewers
PUBLIC_STREAMS = 50  # server-sent events, ``public:local``
OPENING_AT_ONCE = 50
STREAM_SETTLE_SECONDS = 5.0
LOG_TAIL = 12_000  # characters of the instance's log shown when a run fails
NOT_THE_LOAD = ("/api/v1/streaming", "/metrics")
EVENT = re.compile(r'"event":"([a-z.]+)"')
# load.lua's latency histogram: bucket b holds [10^(b/100), 10^((b+1)/100)) µs.
BUCKETS_PER_DECADE = 100


# -- the data the workload draws from -----------------------------------------------------


async def write_inputs(database_url: str, seeded: Seeded, into: Path) -> None:
    """The files load.lua reads: tokens, account ids, post ids (picked from the database after
    seeding) and the mix."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT id FROM posts WHERE visibility = 'public' AND boost_of_id IS NULL"
            " ORDER BY random() LIMIT $1",
            LIKED_POSTS + THREADS_READ,
        )
        profiles = await conn.fetch(
            "SELECT id FROM accounts WHERE domain IS NULL ORDER BY random() LIMIT $1", PROFILES
        )
    finally:
        await conn.close()
    posts = [str(row["id"]) for row in rows]
    files = {
        "tokens.txt": seeded.viewer_tokens,
        "accounts.txt": [str(row["id"]) for row in profiles],
        "posts.txt": posts[:LIKED_POSTS],
        "threads.txt": posts[LIKED_POSTS:],
        "mix.txt": [f"{kind} {weight}" for kind, weight, _ in MIX],
    }
    for name, lines in files.items():
        (into / name).write_text("\n".join(lines) + "\n")


# -- streaming clients --------------------------------------------------------------------


@dataclass
class Listeners:
    """The streams held open during the load, and what they heard."""

    user: Counter[str] = field(default_factory=Counter)  # event -> count, all user streams
    public_updates: list[int] = field(default_factory=list)  # updates heard, each SSE stream
    sockets: list[ClientConnection] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # streams that did not open, and why
    dropped: int = 0  # streams that opened and then ended before we closed them

    def still_open(self) -> int:
        return sum(1 for task in self.tasks if not task.done())


async def _hear_socket(socket: ClientConnection, listeners: Listeners) -> None:
    # A stream that drops (ends, or fails) is counted, not fatal.
    with contextlib.suppress(Exception):
        async for message in socket:
            text = message if isinstance(message, str) else message.decode()
            if (found := EVENT.search(text)) is not None:
                listeners.user[found.group(1)] += 1
    listeners.dropped += 1


async def _hear_sse(
    client: httpx.AsyncClient, url: str, token: str, listeners: Listeners, n: int,
    opened: asyncio.Event,
) -> None:  # fmt: skip
    try:
        headers = {"Authorization": f"Bearer {token}"}
        async with client.stream("GET", url, headers=headers) as response:
            response.raise_for_status()
            opened.set()
            async for line in response.aiter_lines():
                if line == "event: update":
                    listeners.public_updates[n] += 1
    except Exception as exc:
        if not opened.is_set():
            listeners.refused.append(f"SSE: {exc!r}")
    if opened.is_set():
        listeners.dropped += 1
    opened.set()


async def open_listeners(
    instance: RunningInstance, seeded: Seeded, client: httpx.AsyncClient
) -> Listeners:
    """Every stream opened (or refused, which is counted) on return."""
    listeners, slots = Listeners(), asyncio.Semaphore(OPENING_AT_ONCE)
    ws_url = instance.base_url.replace("http://", "ws://") + "/api/v1/streaming?stream=user"

    async def one_socket(token: str) -> ClientConnection:
        async with slots:
            return await connect(
                ws_url, additional_headers={"Authorization": f"Bearer {token}"}, proxy=None,
                open_timeout=60,
            )  # fmt: skip

    # The first followers of fan_1k are not viewers: these streams only listen.
    tokens = seeded.follower_tokens[:USER_STREAMS]
    for socket in await asyncio.gather(*map(one_socket, tokens), return_exceptions=True):
        if isinstance(socket, BaseException):
            listeners.refused.append(f"WebSocket: {socket!r}")
            continue
        listeners.sockets.append(socket)
        listeners.tasks.append(asyncio.create_task(_hear_socket(socket, listeners)))
    sse_url = f"{instance.base_url}/api/v1/streaming/public/local"
    opened = [asyncio.Event() for _ in range(PUBLIC_STREAMS)]
    listeners.public_updates = [0] * PUBLIC_STREAMS
    for n, event in enumerate(opened):
        token = seeded.follower_tokens[USER_STREAMS + n]
        listeners.tasks.append(
            asyncio.create_task(_hear_sse(client, sse_url, token, listeners, n, event))
        )
    await asyncio.gather(*(event.wait() for event in opened))
    return listeners


async def close_listeners(listeners: Listeners) -> None:
    for task in listeners.tasks:
        task.cancel()
    await asyncio.gather(*listeners.tasks, return_exceptions=True)
    await asyncio.gather(*(s.close() for s in listeners.sockets), return_exceptions=True)


# -- what the instance says about itself ------------------------------------------------


# pid -> (role, RSS in MB, of which file-backed: mapped files such as the search index's
# segments, which the kernel may drop, unlike the heap)
Sample = dict[int, tuple[str, float, float]]


def rss_by_process(instance: RunningInstance) -> Sample:
    """Every process of the instance (bench/memory.py's roles)."""
    root = psutil.Process(instance.process.pid)
    sample = {}
    for process in [root, *root.children(True)]:
        info = process.memory_info()
        sample[process.pid] = (memory._role(process), info.rss / 2**20, info.shared / 2**20)
    return sample


async def app_counts(
    client: httpx.AsyncClient,
) -> tuple[Counter[tuple[str, str, str]], dict[str, int]]:
    """(method, route, status) -> requests, from the app's own histogram (every process);
    and queue -> jobs due now (has the worker kept up?)."""
    response = await client.get("/metrics")
    response.raise_for_status()
    counts: Counter[tuple[str, str, str]] = Counter()
    due: dict[str, int] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = sample.labels
            if family.name == "starling_http_request_duration_seconds":
                if sample.name.endswith("_count"):
                    key = labels["method"], labels["route"], labels["status"]
                    counts[key] += int(sample.value)
            elif family.name == "starling_queue_jobs" and labels.get("state") == "due":
                due[labels["queue"]] = int(sample.value)
    return counts, due


# -- wrk ----------------------------------------------------------------------------------


@dataclass
class LoadResult:
    wrk: WrkResult
    requests: int
    seconds: float
    socket_errors: str  # wrk's line, or "none"
    statuses: dict[str, Counter[int]]  # kind -> status -> count
    latencies: dict[str, Counter[int]]  # kind -> bucket -> count


def parse_wrk(output: str) -> LoadResult:
    statuses: dict[str, Counter[int]] = {}
    latencies: dict[str, Counter[int]] = {}
    for line in output.splitlines():
        if line.startswith("LOAD "):
            _, what, kind, key, count = line.split()
            into = statuses if what == "status" else latencies
            into.setdefault(kind, Counter())[int(key)] += int(count)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    total = re.search(r"(\d+) requests in ([\d.]+)(m|s)", output)
    assert total is not None, output
    seconds = float(total.group(2)) * (60 if total.group(3) == "m" else 1)
    p50 = re.search(r"\s50%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    errors = re.search(r"Socket errors: (.+)", output)
    return LoadResult(
        WrkResult(rps, _ms(p50), _ms(p99)), int(total.group(1)), seconds,
        errors.group(1) if errors else "none", statuses, latencies,
    )  # fmt: skip


def percentile_ms(buckets: Counter[int], fraction: float) -> float:
    """The upper bound (ms) of the bucket holding the ``fraction`` quantile."""
    wanted, seen = math.ceil(sum(buckets.values()) * fraction), 0
    for bucket in sorted(buckets):
        seen += buckets[bucket]
        if seen >= wanted:
            return 10 ** ((bucket + 1) / BUCKETS_PER_DECADE) / 1e3
    return math.nan


async def run_load(wrk: str, instance: RunningInstance, inputs: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        wrk, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "--timeout", "10s",
        "-s", str(LUA), instance.base_url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "BENCH_LOAD_DIR": str(inputs)},
    )  # fmt: skip
    stdout, stderr = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{stderr.decode()}")
    return stdout.decode()


async def sample_during(
    running: Awaitable[str], sample: Callable[[], Sample]
) -> tuple[str, list[Sample]]:
    """``running``'s result, and RSS samples at its start, halfway and end."""
    task = asyncio.ensure_future(running)
    samples = [sample()]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(task), SECONDS / 2)
    samples.append(sample())
    output = await task
    samples.append(sample())
    return output, samples


def tracebacks(log: str) -> list[str]:
    """Each traceback in the log, up to the line that names the exception."""
    found = []
    for block in log.split("Traceback (most recent call last):")[1:]:
        lines = block.splitlines()
        end = next((n for n, line in enumerate(lines[1:], 1) if not line.startswith(" ")), 0)
        found.append("Traceback (most recent call last):" + "\n".join(lines[: end + 1]))
    return found


# -- one configuration --------------------------------------------------------------------


@dataclass
class Measured:
    processes: int
    floor: WrkResult
    load: LoadResult
    listeners: Listeners
    streams_at_end: int
    memory: list[Sample]  # at the start of the load, halfway, at its end
    app_non_2xx: Counter[tuple[str, str, str]]
    app_requests: int
    tracebacks: list[str]  # from the instance's log, during this configuration's run
    box_load: tuple[float, float]  # the 1-minute load average before and after (2 cores)
    due_after: dict[str, int]  # queue -> jobs due, once the load and the settling are over


async def measure_one(
    processes: int, wrk: str, instance: RunningInstance, seeded: Seeded, inputs: Path
) -> Measured:
    await measure.warm_up(instance, seeded)
    floor = await asyncio.to_thread(run_wrk, wrk, f"{instance.base_url}/health")
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    timeout = httpx.Timeout(60, read=None)  # a stream is silent between heartbeats
    async with (
        httpx.AsyncClient(limits=limits, timeout=timeout) as streams_client,
        httpx.AsyncClient(base_url=instance.base_url, timeout=30) as client,
    ):
        (before, _), box_before = await app_counts(client), os.getloadavg()[0]
        listeners = await open_listeners(instance, seeded, streams_client)
        try:
            output, samples = await sample_during(
                run_load(wrk, instance, inputs), lambda: rss_by_process(instance)
            )
            # Events of the last requests are still on their way (fan-out is a job).
            await asyncio.sleep(STREAM_SETTLE_SECONDS)
            streams_at_end = listeners.still_open()
        finally:
            await close_listeners(listeners)
        after, due = await app_counts(client)
    during = after - before
    non_2xx = Counter({key: n for key, n in during.items() if not key[2].startswith("2")})
    # The load's requests: not the streams' or the scrape's.
    app_requests = sum(
        n for (_, route, _), n in during.items() if not route.startswith(NOT_THE_LOAD)
    )
    return Measured(
        processes, floor, parse_wrk(output), listeners, streams_at_end, samples, non_2xx,
        app_requests, tracebacks(instance.log()), (box_before, os.getloadavg()[0]), due,
    )  # fmt: skip


def configuration_env(extra_env: dict[str, str | None], processes: int) -> dict[str, str | None]:
    # One arq worker of its own in both, so only the web processes differ.
    return {
        **extra_env,
        "STARLING_SERVER_WORKERS": str(processes),
        "STARLING_WORKER_EMBEDDED": "false",
    }


# -- the table ----------------------------------------------------------------------------


def rows_of(measured: Measured) -> list[Row]:
    load, n = measured.load, measured.processes
    title = f"load, {n} web process{'es' if n > 1 else ''} + 1 worker"
    rows = [
        Row(f"{title}: floor GET /health", fmt(measured.floor), "(this configuration's ceiling)"),
        Row(
            f"{title}: mixed workload (wrk)",
            f"{fmt(load.wrk)}; {load.requests:,} in {load.seconds:.0f} s",
            "",
        ),
        Row("  ratio to floor", f"{load.wrk.rps / measured.floor.rps:.0%}", ""),
        Row(
            "  the box's load average (1 min), before / after",
            f"{measured.box_load[0]:.1f} / {measured.box_load[1]:.1f} on {os.cpu_count()} cores",
            "(others' work skews it)",
        ),
    ]
    for kind, weight, what in MIX:
        statuses, buckets = load.statuses.get(kind, Counter()), load.latencies.get(kind, Counter())
        count = sum(statuses.values())
        share = count / max(load.requests, 1)
        rows.append(
            Row(
                f"  {what}",
                f"{count / load.seconds:,.0f} req/s ({share:.1%}); p50 "
                f"{percentile_ms(buckets, 0.5):.1f} / p99 {percentile_ms(buckets, 0.99):.1f} ms",
                f"(mix {weight} %)",
            )
        )
    non_2xx = Counter(
        f"{kind} {status}"
        for kind, statuses in load.statuses.items()
        for status, count in statuses.items()
        for _ in range(count)
        if not 200 <= status < 300
    )
    wrong = ", ".join(f"{what} ×{count}" for what, count in non_2xx.most_common()) or "none"
    app_wrong = ", ".join(
        f"{method} {route} {status} ×{count}"
        for (method, route, status), count in measured.app_non_2xx.most_common()
    )
    rows += [
        Row("  non-2xx responses (wrk's client side)", wrong, "none"),
        Row("  socket errors (wrk)", load.socket_errors, "none"),
        Row(
            "  the app's own count (/metrics)",
            f"{measured.app_requests:,} requests; non-2xx: {app_wrong or 'none'}",
            "none",
        ),
    ]
    listeners, made = measured.listeners, _made(load)
    updates = listeners.public_updates or [0]
    rows += [
        Row(
            f"  streams: {USER_STREAMS} WebSocket user + {PUBLIC_STREAMS} SSE public:local",
            f"{measured.streams_at_end} open {STREAM_SETTLE_SECONDS:.0f} s after the load; "
            f"{len(listeners.refused)} refused, {listeners.dropped} dropped",
            f"all {USER_STREAMS + PUBLIC_STREAMS} open",
        ),
        Row("    heard on the user streams (all)", _events(listeners.user), ""),
        Row(
            "    updates heard on each public:local stream",
            f"min {min(updates):,} / max {max(updates):,} (made: {made})",
            "the same on every stream",
        ),
        Row("  tracebacks in the instance's log", f"{len(measured.tracebacks)}", "none"),
        Row(
            f"  jobs due {STREAM_SETTLE_SECONDS:.0f} s after the load",
            ", ".join(f"{queue} {n:,}" for queue, n in sorted(measured.due_after.items())),
            "(the worker kept up: ~0)",
        ),
    ]
    gone = ("", math.nan, math.nan)
    for pid, (role, _, _) in measured.memory[0].items():
        taken = [sample.get(pid, gone) for sample in measured.memory]
        rows.append(
            Row(
                f"  memory: {role} (pid {pid}), start / half / end",
                " / ".join(f"{rss:.0f}" for _, rss, _ in taken) + " MB RSS; file-backed "
                + " / ".join(f"{file:.0f}" for _, _, file in taken),
                "no growth",
            )
        )  # fmt: skip
    totals = [sum(rss for _, rss, _ in sample.values()) for sample in measured.memory]
    rows.append(
        Row(
            f"  memory: total, {len(measured.memory[-1])} processes",
            " / ".join(f"{total:.0f}" for total in totals) + " MB RSS",
            "no growth",
        )
    )
    return rows


def _made(load: LoadResult) -> str:
    """What the workload wrote (2xx): posts, replies, boosts (a repeat boost writes none)."""
    made = {
        kind: sum(n for status, n in load.statuses.get(kind, Counter()).items() if status < 300)
        for kind in ("post", "reply", "reblog")
    }
    return f"{made['post']:,} posts, {made['reply']:,} replies, {made['reblog']:,} boosts"


def _events(counts: Counter[str]) -> str:
    return ", ".join(f"{kind} {count:,}" for kind, count in counts.most_common()) or "nothing"


def scaling_row(results: list[Measured]) -> list[Row]:
    if len(results) < 2:
        return []
    one, two = results[0], results[-1]
    return [
        Row(
            f"load: {two.processes} vs {one.processes} web processes",
            f"×{two.load.wrk.rps / one.load.wrk.rps:.2f} throughput (floor "
            f"×{two.floor.rps / one.floor.rps:.2f}); p99 {one.load.wrk.p99_ms:.0f} → "
            f"{two.load.wrk.p99_ms:.0f} ms",
            "(2 cores, wrk on them too)",
        )
    ]


def report(rows: list[Row]) -> None:
    header = (
        f"Starling load test — {ACCOUNTS:,} accounts, {POSTS:,} posts; wrk -t{THREADS} "
        f"-c{CONNECTIONS} -d{SECONDS}s with bench/load.lua; "
        f"{USER_STREAMS + PUBLIC_STREAMS} streams open; latencies client-side"
    )
    write_table(header, rows, RESULTS / "load.json", (60, 62, 30))


Prepare = Callable[[str, str, str], Awaitable[Seeded]]


def run(
    wrk: str, database_url: str, redis_url: str, prepare: Prepare, extra_env: dict[str, str | None]
) -> list[Row]:
    """Each configuration on a freshly seeded data set (the same seed), then the table."""
    raise_open_files(4 * (USER_STREAMS + PUBLIC_STREAMS + CONNECTIONS) + 1_000)
    port = free_port()
    results = []
    for processes in WEB_PROCESSES:
        seeded = asyncio.run(prepare(database_url, redis_url, f"http://127.0.0.1:{port}"))
        with tempfile.TemporaryDirectory() as tmp:
            inputs = Path(tmp)
            asyncio.run(write_inputs(database_url, seeded, inputs))
            env = configuration_env(extra_env, processes)
            # The search index built beforehand, as bench/__main__ does: without one the
            # worker spends the run building it (its memory climbing, index jobs queued).
            built = search.reindex(instance_env("load", database_url, redis_url, inputs,
                                                port=port, extra_env=env))  # fmt: skip
            print(f"bench: {built.name}: {built.result}")
            instance = start_instance(
                "load", database_url, redis_url, inputs, port=port, extra_env=env
            )
            try:
                started = time.perf_counter()
                results.append(asyncio.run(measure_one(processes, wrk, instance, seeded, inputs)))
                print(f"bench: load on {processes} web process(es): "
                      f"{time.perf_counter() - started:.0f} s")  # fmt: skip
            except Exception:
                # The instance's log goes with the temporary directory: its end, for the why.
                print(f"bench: the instance's log ended:\n{instance.log()[-LOG_TAIL:]}")
                raise
            finally:
                instance.stop()
    rows = [row for measured in results for row in rows_of(measured)] + scaling_row(results)
    report(rows)
    for measured in results:
        problems = Counter(measured.tracebacks + measured.listeners.refused)
        for text, count in problems.most_common():
            print(f"\nbench: on {measured.processes} web process(es), {count} ×:\n{text}")
    return rows
