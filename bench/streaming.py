"""Streaming on the benchmark data: how many idle streams one web process holds (and what
they cost in memory), and how soon a new post reaches 1,000 subscribers.

A separate ``starling web`` with one Hypercorn process serves the streams (the bench
instance's two share a socket, so a client cannot choose one); it uses the bench instance's
database and Redis, and the bench instance's worker does the fan-out, as behind a proxy.
2,000 connections: 1,000 WebSockets on the ``user`` stream of the 1,000 accounts that follow
``fan_1k``, and 1,000 server-sent-event streams of a hashtag nobody uses (idle). Then
``fan_1k`` posts; each subscriber's arrival time is counted from the POST's response.

Open files: each stream is a descriptor on each side, so the bench process raises its soft
RLIMIT_NOFILE (to 9,000, at most the hard limit) before it starts the web process, which
inherits it (as does a Hypercorn process under it, if it spawns one). An operator's web
processes need the same (``LimitNOFILE=`` in a systemd unit, ``ulimit -n`` in a shell): the
limit here is 20,000, while a soft limit of 1,024 stops a process near a thousand streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import signal
import statistics
import subprocess
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field

import httpx
import psutil
from arq.jobs import deserialize_result
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect

from bench.seed import Seeded
from bench.wrk import Row, percentiles
from tests.instances import RunningInstance, free_port, spawn

SUBSCRIBERS = 1_000  # WebSockets on the user stream (all follow fan_1k)
IDLE_SSE = 1_000  # server-sent events on a hashtag stream nothing is posted to
OPENING_AT_ONCE = 50  # handshakes in flight (the listen backlog is 100)
POSTS = 5  # the first after connecting, then warm ones
POST_GAP_SECONDS = 1.0
ARRIVAL_TIMEOUT_SECONDS = 10.0
SETTLE_SECONDS = 5.0
START_TIMEOUT_SECONDS = 60.0


def raise_open_files(wanted: int) -> tuple[int, int]:
    """The soft open-files limit up to ``wanted`` (at most the hard limit); answers (soft,
    hard). Children started after this inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(hard, max(soft, wanted))
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


@dataclass
class WebProcess:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def server(self) -> psutil.Process:
        """The process that runs the app: Hypercorn's worker under ``starling web`` when it
        spawns one, else ``starling web`` itself (one process serves in-process)."""
        web = psutil.Process(self.process.pid)
        for child in web.children(recursive=True):
            if "spawn_main" in " ".join(child.cmdline()):
                return child
        return web

    def rss_mb(self) -> float:
        return self.server().memory_info().rss / 2**20

    def established(self) -> int:
        return sum(
            1
            for c in self.server().net_connections(kind="tcp")
            if c.laddr and c.laddr.port == self.port and c.status == psutil.CONN_ESTABLISHED
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_web(instance: RunningInstance) -> WebProcess:
    port = free_port()
    env = {**instance.env, "STARLING_SERVER_PORT": str(port), "STARLING_SERVER_WORKERS": "1"}
    log = instance.log_path.with_name("stream-web.log")
    web = WebProcess(spawn("web", env, log), port)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if web.process.poll() is not None:
            raise RuntimeError(f"starling web exited early:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{web.base_url}/api/v1/streaming/health", timeout=1).is_success:
                return web
        time.sleep(0.2)
    web.stop()
    raise RuntimeError(f"starling web did not start:\n{log.read_text(errors='replace')}")


@dataclass
class Arrivals:
    """When each subscriber first heard of the awaited post (perf_counter seconds). Updates
    heard before the post's id is known (the POST's response not yet read) are kept aside."""

    wanted: str | None = None
    at: dict[int, float] = field(default_factory=dict)
    early: list[tuple[int, float, str]] = field(default_factory=list)
    everyone: asyncio.Event = field(default_factory=asyncio.Event)

    def expect(self, post_id: str) -> None:
        self.wanted, self.at = post_id, {}
        self.everyone.clear()
        early, self.early = self.early, []
        for subscriber, stamp, text in early:
            self._match(subscriber, stamp, text)

    def heard(self, subscriber: int, message: str | bytes) -> None:
        stamp = time.perf_counter()  # first: what follows is the client's own work
        text = message if isinstance(message, str) else message.decode()
        if self.wanted is None:
            if '"event":"update"' in text:
                self.early.append((subscriber, stamp, text))
        elif subscriber not in self.at:
            self._match(subscriber, stamp, text)

    def _match(self, subscriber: int, stamp: float, text: str) -> None:
        if '"event":"update"' in text and self.wanted and self.wanted in text:
            self.at.setdefault(subscriber, stamp)
            if len(self.at) == SUBSCRIBERS:
                self.everyone.set()


async def _listen(socket: ClientConnection, subscriber: int, arrivals: Arrivals) -> None:
    with contextlib.suppress(Exception):  # a dropped socket just stops hearing
        async for message in socket:
            arrivals.heard(subscriber, message)


async def _hold_sse(client: httpx.AsyncClient, url: str, opened: asyncio.Future[None]) -> None:
    try:
        async with client.stream("GET", url) as response:
            response.raise_for_status()
            async for _chunk in response.aiter_raw():
                if not opened.done():
                    opened.set_result(None)
    except Exception as exc:
        if not opened.done():
            opened.set_exception(exc)


@dataclass
class Streams:
    sockets: list[ClientConnection] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


async def _bounded(slots: asyncio.Semaphore, opening: Awaitable[object]) -> object:
    async with slots:
        return await opening


async def open_streams(
    web: WebProcess, seeded: Seeded, arrivals: Arrivals, client: httpx.AsyncClient
) -> Streams:
    """The 2,000 connections, every one in place (subscribed, first bytes seen) on return."""
    slots, held = asyncio.Semaphore(OPENING_AT_ONCE), Streams()
    ws_url = f"ws://127.0.0.1:{web.port}/api/v1/streaming?stream=user"
    opened = await asyncio.gather(*(
        _bounded(slots, connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"},
                                proxy=None, open_timeout=60))
        for token in seeded.follower_tokens[:SUBSCRIBERS]
    ))  # fmt: skip
    for n, socket in enumerate(opened):
        assert isinstance(socket, ClientConnection)
        held.sockets.append(socket)
        held.tasks.append(asyncio.create_task(_listen(socket, n, arrivals)))
    loop = asyncio.get_running_loop()
    sse_url = f"{web.base_url}/api/v1/streaming/hashtag?tag=benchidle"
    first_bytes = [loop.create_future() for _ in range(IDLE_SSE)]
    for n in range(IDLE_SSE):
        held.tasks.append(asyncio.create_task(_hold_sse(client, sse_url, first_bytes[n])))
        if n % OPENING_AT_ONCE == OPENING_AT_ONCE - 1:
            await asyncio.gather(*first_bytes[n + 1 - OPENING_AT_ONCE : n + 1])
    await asyncio.gather(*first_bytes)
    return held


async def close_streams(held: Streams) -> None:
    for task in held.tasks:
        task.cancel()
    await asyncio.gather(*held.tasks, return_exceptions=True)
    await asyncio.gather(*(s.close() for s in held.sockets), return_exceptions=True)


@dataclass(frozen=True)
class Delivery:
    post_id: str
    received: int
    since_response_ms: list[float]  # one per subscriber that got it
    post_ms: float  # the POST itself, request to response
    answered_at: float  # wall clock (time.time) of the POST's response


async def post_and_wait(
    instance: RunningInstance, token: str, arrivals: Arrivals, n: int
) -> Delivery:
    async with httpx.AsyncClient(base_url=instance.base_url, timeout=30) as client:
        started = time.perf_counter()
        response = await client.post(
            "/api/v1/statuses",
            json={"status": f"streaming benchmark post {n}"},
            headers={"Authorization": f"Bearer {token}"},
        )
        answered, answered_at = time.perf_counter(), time.time()
        response.raise_for_status()
        # The id is known only now: a subscriber that heard it before is found by its text.
        post_id = response.json()["id"]
        arrivals.expect(post_id)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(arrivals.everyone.wait(), ARRIVAL_TIMEOUT_SECONDS)
    times = [(stamp - answered) * 1e3 for stamp in arrivals.at.values()]
    arrivals.wanted = None
    return Delivery(post_id, len(times), times, (answered - started) * 1e3, answered_at)


async def worker_side(redis_url: str, deliveries: list[Delivery]) -> str:
    """From arq's kept results of the fan-out jobs: how long each waited in the queue, ran
    (push and publish), and when it ended after the POST's 200 (medians). The rest of a
    subscriber's wait is the web process's hub, the sockets and this client."""
    answered = {int(d.post_id): d.answered_at for d in deliveries}
    waited, ran, ended = [], [], []
    redis = Redis.from_url(redis_url)
    try:
        async for key in redis.scan_iter("arq:result:*", count=1_000):
            raw = await redis.get(key)
            result = deserialize_result(raw) if raw else None
            if result is None or result.function != "fanout" or not result.args:
                continue
            if (at := answered.get(int(result.args[0]))) is not None:
                waited.append((result.start_time - result.enqueue_time).total_seconds() * 1e3)
                ran.append((result.finish_time - result.start_time).total_seconds() * 1e3)
                ended.append((result.finish_time.timestamp() - at) * 1e3)
    finally:
        await redis.aclose()
    if not ran:
        return "(no kept results)"
    return (
        f"queued {statistics.median(waited):.0f}, ran {statistics.median(ran):.0f}, done "
        f"{statistics.median(ended):.0f} ms after the 200"
    )


def _spread(samples: list[float]) -> str:
    if not samples:
        return "none arrived"
    p50, p99 = percentiles(samples)
    return f"p50 {p50:.0f} / p99 {p99:.0f} / max {max(samples):.0f} ms"


async def deliveries(instance: RunningInstance, seeded: Seeded, arrivals: Arrivals) -> list[Row]:
    results = []
    for n in range(POSTS):
        results.append(await post_and_wait(instance, seeded.fan_1k_token, arrivals, n))
        await asyncio.sleep(POST_GAP_SECONDS)
    first, warm = results[0], results[1:]
    warm_times = [t for r in warm for t in r.since_response_ms]
    warm_received = min(r.received for r in warm)
    return [
        Row(
            f"streaming: 1st post to {SUBSCRIBERS:,} user streams",
            f"{_spread(first.since_response_ms)} ({first.received:,} got it)",
            "<= 100 ms after the POST's 200",
        ),
        Row(
            f"streaming: next {len(warm)} posts, each to {SUBSCRIBERS:,}",
            f"{_spread(warm_times)} (>= {warm_received:,} got each)",
            "<= 100 ms after the POST's 200",
        ),
        Row(
            "  their fan-out jobs (arq's results, medians)",
            await worker_side(instance.env["STARLING_REDIS_URL"], results),
            "(fan-out: <= 50 ms)",
        ),
        Row(
            "  POST /api/v1/statuses meanwhile",
            f"median {statistics.median(r.post_ms for r in results):.1f} ms",
            "",
        ),
    ]


async def streaming_rows(instance: RunningInstance, seeded: Seeded) -> list[Row]:
    soft, _hard = raise_open_files(4 * (SUBSCRIBERS + IDLE_SSE) + 1_000)
    web = start_web(instance)
    arrivals = Arrivals()
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    timeout = httpx.Timeout(60, read=None)  # a stream is silent between heartbeats
    try:
        async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
            before = web.rss_mb()
            started = time.perf_counter()
            held = await open_streams(web, seeded, arrivals, client)
            opened_s = time.perf_counter() - started
            await asyncio.sleep(SETTLE_SECONDS)
            after, established = web.rss_mb(), web.established()
            total = SUBSCRIBERS + IDLE_SSE
            rows = [
                Row(
                    "streaming: idle connections held by 1 web process",
                    f"{established:,} of {total:,} (opened in {opened_s:.1f} s)",
                    ">= 2,000",
                ),
                Row(
                    "  RSS of that process, before / after",
                    f"{before:.0f} / {after:.0f} MB "
                    f"({(after - before) * 1024 / total:.0f} KB a stream)",
                    f"(open files limit {soft:,})",
                ),
            ]
            try:
                rows += await deliveries(instance, seeded, arrivals)
                rows.append(
                    Row(
                        "  afterwards: still connected; RSS",
                        f"{web.established():,}; {web.rss_mb():.0f} MB",
                        "(WebSocket deflate state per socket)",
                    )
                )
            finally:
                await close_streams(held)
    finally:
        web.stop()
    return rows
