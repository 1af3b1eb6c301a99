"""A private PostgreSQL primary and a streaming replica of it, for the read-replica tests.

The machine's PostgreSQL may not accept replication connections (Debian's pg_hba.conf lists
none here) and tests never edit system files, so we start our own primary with ``initdb`` in
a temporary directory (its default pg_hba trusts replication from loopback) on a free port,
and a replica from it with ``pg_basebackup -R``. As root, the servers run as ``postgres``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(*command: str | Path) -> None:
    args = [str(part) for part in command]
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    subprocess.run(args, check=True, capture_output=True, timeout=120)


@dataclass
class Cluster:
    data: Path
    port: int
    sockets: Path

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def start(self) -> None:
        _run(BIN / "pg_ctl", "-D", self.data, "-l", f"{self.data}.log", "-w", "-t", "60",
             "-o", f"-p {self.port} -k {self.sockets}", "start")  # fmt: skip

    def stop(self) -> None:
        _run(BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")


@dataclass
class Pair:
    primary: Cluster
    replica: Cluster


def _primary(base: Path) -> Cluster:
    cluster = Cluster(base / "primary", _free_port(), base)
    _run(BIN / "initdb", "-D", cluster.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--locale=C.UTF-8", "-N")  # fmt: skip
    with (cluster.data / "postgresql.conf").open("a") as conf:
        # A throwaway cluster: durability off for speed; loopback only.
        conf.write(
            "listen_addresses = '127.0.0.1'\nfsync = off\nfull_page_writes = off\n"
            "synchronous_commit = off\nmax_wal_senders = 4\nwal_level = replica\n"
        )
    cluster.start()
    return cluster


def _replica_of(primary: Cluster, base: Path) -> Cluster:
    cluster = Cluster(base / "replica", _free_port(), base)
    _run(BIN / "pg_basebackup", "-D", cluster.data, "-R", "-h", "127.0.0.1",
         "-p", str(primary.port), "-U", "postgres", "-X", "stream")  # fmt: skip
    cluster.start()
    return cluster


@contextmanager
def streaming_pair() -> Iterator[Pair]:
    """A running primary and its hot-standby replica; both stopped and removed at the end."""
    base = Path(tempfile.mkdtemp(prefix="starling-replica-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    started: list[Cluster] = []
    try:
        started.append(_primary(base))
        started.append(_replica_of(started[0], base))
        yield Pair(*started)
    finally:
        for cluster in reversed(started):
            # Already stopped if a test stopped it and failed before starting it again.
            with suppress(subprocess.CalledProcessError):
                _run(BIN / "pg_ctl", "-D", cluster.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)
