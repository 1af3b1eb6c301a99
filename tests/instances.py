"""Real Starling instances for end-to-end tests: ``starling run`` in a child process.

Each gets its own database (migrated by the real migrations), its own Redis database number
and a free loopback port, and is stopped with Ctrl-C (SIGINT) as a person would.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from redis.asyncio import Redis

from tests.support import drop_database, redis_url_with_db, with_database_name

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningInstance:
    base_url: str
    domain: str
    database_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    ready_url: str = ""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        """The first match of ``pattern`` in the log, once it appears (``/ready`` may answer a
        moment before the supervisor's own check prints its line)."""
        deadline = time.monotonic() + timeout
        while (found := re.search(pattern, self.log())) is None:
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.1)
        return found

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def instance_database_url(server_url: str, name: str) -> str:
    return with_database_name(server_url, f"starling_e2e_{name}_{os.getpid()}")


def instance_env(
    name: str,
    database_url: str,
    redis_url: str,
    tmp: Path,
    *,
    port: int,
    extra_env: dict[str, str | None] | None = None,
) -> dict[str, str]:
    """The environment of an instance on ``port``; ``extra_env`` adds or overrides STARLING_*
    settings, and a value of None removes one (so the committed config.toml decides it)."""
    env: dict[str, str | None] = {
        **os.environ,
        "STARLING_INSTANCE_DOMAIN": f"127.0.0.1:{port}",
        "STARLING_INSTANCE_NAME": f"Starling {name}",
        "STARLING_INSTANCE_HTTPS": "false",
        "STARLING_SERVER_PORT": str(port),
        "STARLING_DATABASE_URL": database_url,
        "STARLING_REDIS_URL": redis_url,
        "STARLING_STORAGE_DATA_DIR": str(tmp / f"data-{name}"),
        **(extra_env or {}),
    }
    return {key: value for key, value in env.items() if value is not None}


def start_instance(
    name: str,
    database_url: str,
    redis_url: str,
    tmp: Path,
    *,
    port: int | None = None,
    extra_env: dict[str, str | None] | None = None,
    command: str = "run",
) -> RunningInstance:
    """``starling COMMAND`` (``run``: migrate, web and worker; ``web``: the web processes alone)
    on ``port`` (default: a free one), with ``database_url`` (created and migrated by ``run``)
    and ``redis_url``."""
    port = port or free_port()
    env = instance_env(name, database_url, redis_url, tmp, port=port, extra_env=extra_env)
    domain = env["STARLING_INSTANCE_DOMAIN"]
    log_path = tmp / f"instance-{name}.log"
    process = spawn(command, env, log_path)
    scheme = "https" if env.get("STARLING_INSTANCE_HTTPS", "true") == "true" else "http"
    instance = RunningInstance(
        f"{scheme}://{domain}", domain, env["STARLING_DATABASE_URL"], env, process, log_path
    )
    instance.ready_url = f"http://127.0.0.1:{port}/ready"
    _wait_until_up(instance)
    return instance


def restart(instance: RunningInstance, command: str = "run") -> RunningInstance:
    """Start a stopped instance again: same settings, database, Redis and port."""
    process = spawn(command, instance.env, instance.log_path)
    again = dataclasses.replace(instance, process=process)
    _wait_until_up(again)
    return again


def spawn(command: str, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """A ``starling`` command in a child process, its output appended to ``log_path``."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "instance.cli", command],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _wait_until_up(instance: RunningInstance) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if instance.process.poll() is not None:
            raise RuntimeError(f"instance exited early:\n{instance.log()}")
        try:
            url = instance.ready_url or f"{instance.base_url}/ready"
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    instance.stop()
    raise RuntimeError(f"instance did not answer within {START_TIMEOUT} s:\n{instance.log()}")


@contextlib.asynccontextmanager
async def fresh_instance(
    service_urls: tuple[str, str], name: str, redis_db: int, tmp: Path
) -> AsyncIterator[RunningInstance]:
    """``starling run`` on a new database and an emptied Redis database number (each suite
    its own number: two instances on one number would run each other's jobs)."""
    server_url, redis_server_url = service_urls
    database_url = instance_database_url(server_url, name)
    redis_url = redis_url_with_db(redis_server_url, redis_db)
    await drop_database(database_url)
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    running = start_instance(name, database_url, redis_url, tmp)
    try:
        yield running
    finally:
        running.stop()
        await drop_database(database_url)
