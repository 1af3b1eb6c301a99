"""Real Starling instances for end-to-end tests: ``starling run`` in a child process.

Each gets its own database (migrated by the real migrations), its own Redis database number
and a free loopback port, and is stopped with Ctrl-C (SIGINT) as a person would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support import with_database_name

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

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

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


def start_instance(
    name: str,
    database_url: str,
    redis_url: str,
    tmp: Path,
    *,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> RunningInstance:
    """``starling run`` on ``port`` (default: a free one), with ``database_url`` (created and
    migrated by it) and ``redis_url``; ``extra_env`` adds or overrides STARLING_* settings."""
    port = port or free_port()
    domain = f"127.0.0.1:{port}"
    env = {
        **os.environ,
        "STARLING_INSTANCE_DOMAIN": domain,
        "STARLING_INSTANCE_NAME": f"Starling {name}",
        "STARLING_INSTANCE_HTTPS": "false",
        "STARLING_SERVER_PORT": str(port),
        "STARLING_DATABASE_URL": database_url,
        "STARLING_REDIS_URL": redis_url,
        "STARLING_STORAGE_DATA_DIR": str(tmp / f"data-{name}"),
        **(extra_env or {}),
    }
    log_path = tmp / f"instance-{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "instance.cli", "run"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    instance = RunningInstance(
        f"http://{domain}", domain, env["STARLING_DATABASE_URL"], env, process, log_path
    )
    _wait_until_up(instance)
    return instance


def _wait_until_up(instance: RunningInstance) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if instance.process.poll() is not None:
            raise RuntimeError(f"instance exited early:\n{instance.log()}")
        try:
            if httpx.get(f"{instance.base_url}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    instance.stop()
    raise RuntimeError(f"instance did not answer within {START_TIMEOUT} s:\n{instance.log()}")
