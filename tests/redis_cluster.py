"""A real 3-node Redis Cluster on loopback ports, for the tests of ``redis.cache_cluster``.

Three ``redis-server --cluster-enabled yes`` processes (the machine's binary), joined by
``redis-cli --cluster create`` with no replicas, ready once ``cluster info`` says
``cluster_state:ok``; stopped when the block ends.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from instance import lifecycle
from instance.config import Settings
from services.backends import Backends

NODES = 3
BUS_OFFSET = 10000  # a cluster node also listens on port + 10000 (the cluster bus)


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports() -> list[int]:
    """NODES ports whose bus ports are free too (other test sessions may run side by side)."""
    chosen: list[int] = []
    while len(chosen) < NODES:
        port = random.randint(20000, 55000 - BUS_OFFSET)
        if port not in chosen and _free(port) and _free(port + BUS_OFFSET):
            chosen.append(port)
    return chosen


def _cli(port: int, *args: str) -> str:
    cli = shutil.which("redis-cli") or "redis-cli"
    done = subprocess.run(
        [cli, "-h", "127.0.0.1", "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout + done.stderr


def _wait(condition, what: str, seconds: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis cluster: {what}")
        time.sleep(0.05)


def _node_command(binary: str, port: int, directory: Path) -> list[str]:
    return [binary, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
            "--cluster-config-file", str(directory / f"nodes-{port}.conf"),
            "--dir", str(directory), "--save", "", "--appendonly", "no",
            "--logfile", str(directory / f"redis-{port}.log")]  # fmt: skip


@contextmanager
def redis_cluster(directory: Path) -> Iterator[str]:
    """Start the cluster; yields the URL of one node (clients discover the others)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("the Redis Cluster tests need the machine's redis-server")
    ports = _ports()
    processes = []
    try:
        for port in ports:
            processes.append(subprocess.Popen(_node_command(binary, port, directory)))
        for port in ports:
            _wait(lambda port=port: "PONG" in _cli(port, "ping"), f"node {port} did not start")
        nodes = [f"127.0.0.1:{port}" for port in ports]
        created = _cli(ports[0], "--cluster", "create", *nodes, "--cluster-replicas", "0",
                       "--cluster-yes")  # fmt: skip
        if "[OK]" not in created:
            raise RuntimeError(f"redis cluster: create failed: {created}")
        for port in ports:
            _wait(
                lambda port=port: "cluster_state:ok" in _cli(port, "cluster", "info"),
                f"node {port} never reached cluster_state:ok",
            )
        yield f"redis://127.0.0.1:{ports[0]}/0"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def flush(url: str) -> None:
    """Empty every node (a test starts from nothing, as on the plain test Redis)."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    for line in _cli(port, "cluster", "nodes").splitlines():
        address = line.split()[1].split("@")[0]
        if "master" in line:
            _cli(int(address.rsplit(":", 1)[1]), "flushall")


@asynccontextmanager
async def backends_on_cluster(settings: Settings, url: str) -> AsyncIterator[Backends]:
    """Backends (and their ``settings``) whose cache is the cluster at ``url``, emptied first;
    the job queues stay where ``settings`` has them."""
    flush(url)
    redis = settings.redis.model_copy(update={"cache_url": url, "cache_cluster": True})
    opened = await lifecycle.open_backends(
        settings.model_copy(update={"redis": redis}), init_orm=False
    )
    try:
        yield opened
    finally:
        await lifecycle.close_backends(opened, close_orm=False)


__all__ = ["backends_on_cluster", "flush", "redis_cluster"]
