"""``/metrics``: every process's Prometheus values (services/metrics) in the text format, and
what a scrape reads on the spot (arq queue depths from Redis, the Postgres backlog).

Served only to ``metrics.allow`` (addresses or networks; loopback by default) or to a request
bearing ``metrics.token``: the counts say how busy the instance is and with whom.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
from functools import cache
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from quart import Blueprint, Quart, Response, request
from redis.exceptions import RedisError
from tortoise.exceptions import DBConnectionError, OperationalError

from instance.config import MetricsSettings
from services import metrics
from web.deps import backends, settings

blueprint = Blueprint("metrics", __name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _allowed(allow: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in allow)


def _address_allowed(config: MetricsSettings, address: str | None) -> bool:
    try:
        peer = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return False
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped
    return any(peer in network for network in _allowed(config.allow))


def _peer() -> str | None:
    """The client's address: the TCP peer's, or the one a trusted proxy forwarded (web/proxy)."""
    client = request.scope.get("client")
    return client[0] if client else None


def _refusal() -> Response | None:
    """None when the request may read the metrics; else 401 (a token would do) or 403."""
    config = settings().metrics
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if config.token and scheme.lower() == "bearer":
        if hmac.compare_digest(presented.strip().encode(), config.token.encode()):
            return None
    elif _address_allowed(config, _peer()):
        return None
    if config.token:
        return Response(
            "A valid bearer token is needed for /metrics.\n",
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"'},
            mimetype="text/plain",
        )
    return Response("/metrics is not served to this address.\n", 403, mimetype="text/plain")


class _ScrapeTime:
    """Values read for this scrape only (none of them lives in a process)."""

    def __init__(self, depths: list[metrics.QueueDepth], backlog: dict[str, int]) -> None:
        self.depths, self.backlog = depths, backlog

    def collect(self) -> Any:
        jobs = GaugeMetricFamily(
            "starling_queue_jobs", "Jobs in each arq queue: due, or deferred to later.",
            labels=("queue", "state"),
        )  # fmt: skip
        oldest = GaugeMetricFamily(
            "starling_queue_oldest_due_seconds",
            "How long the oldest due job of each arq queue has been waiting.",
            labels=("queue",),
        )
        for depth in self.depths:
            jobs.add_metric((depth.queue, "due"), depth.due)
            jobs.add_metric((depth.queue, "deferred"), depth.deferred)
            oldest.add_metric((depth.queue,), depth.oldest_due_seconds)
        yield jobs
        yield oldest
        pending = GaugeMetricFamily(
            "starling_pending_rows", "Deliveries and inbox items not yet done (PostgreSQL).",
            labels=("table",),
        )  # fmt: skip
        for table, count in self.backlog.items():
            pending.add_metric((table,), count)
        yield pending


async def _scrape_time() -> _ScrapeTime:
    depths: list[metrics.QueueDepth] = []
    backlog: dict[str, int] = {}
    # A scrape still answers while Redis or PostgreSQL is down: /ready says which.
    with contextlib.suppress(OSError, RedisError):
        depths = await metrics.queue_depths(backends().queue, metrics.QUEUES)
    with contextlib.suppress(OSError, DBConnectionError, OperationalError):
        backlog = await metrics.backlog()
    return _ScrapeTime(depths, backlog)


class _Processes(MultiProcessCollector):
    """prometheus-client's collector, leaving out live gauges of processes long gone."""

    def collect(self) -> Any:
        return self.merge(metrics.live_files(self._path), accumulate=True)


def _exposition(now: _ScrapeTime) -> bytes:
    if metrics.multiprocess():
        processes = CollectorRegistry()
        _Processes(processes)
    else:
        processes = REGISTRY
    extra = CollectorRegistry()
    extra.register(now)
    return generate_latest(processes) + generate_latest(extra)


@blueprint.get("/metrics")
async def scrape() -> Response:
    refused = _refusal()
    if refused is not None:
        return refused
    metrics.sample_process("web")  # this process's figures as of now
    now = await _scrape_time()
    # Reading every process's files is disk work: off the event loop.
    body = await asyncio.to_thread(_exposition, now)
    return Response(body, 200, {"Cache-Control": "no-store"}, content_type=CONTENT_TYPE_LATEST)


def register_metrics(app: Quart) -> None:
    """The endpoint, and each serving process's gauges sampled in the background."""
    app.register_blueprint(blueprint)
    sampling: list[asyncio.Task[None]] = []

    @app.before_serving
    async def start_sampling() -> None:
        sampling.append(asyncio.create_task(metrics.sample_forever("web")))

    @app.after_serving
    async def stop_sampling() -> None:
        for task in sampling:
            task.cancel()
