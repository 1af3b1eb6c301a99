"""Real Starling instances talking over real HTTP on loopback, and people using them through
Mastodon.py (a real client): what ``tests/federation/`` is built on.

Each instance has its own database and Redis database and runs ``starling run`` (web and a
real worker), with federation allowed over plain http to 127.0.0.1 and short retry delays.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import redis
from mastodon import Mastodon
from redis.asyncio import Redis as AsyncRedis

from tests.instances import (
    ROOT,
    RunningInstance,
    free_port,
    instance_database_url,
    instance_env,
    restart,
    spawn,
    start_instance,
)
from tests.support import drop_database, redis_url_with_db

T = TypeVar("T")
SCOPES = ["read", "write", "follow"]
PASSWORD = "a long password"

# What lets instances on one machine federate: plain http, loopback addresses, quick retries
# and sweeps (production defaults: https only, no private addresses, minutes between retries).
FEDERATION_ENV = {
    "STARLING_FEDERATION_ALLOW_HTTP": "true",
    "STARLING_FEDERATION_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8,::1/128",
    "STARLING_FEDERATION_RETRY_BASE_SECONDS": "0.5",
    "STARLING_FEDERATION_RETRY_MAX_WAIT_SECONDS": "2",
    "STARLING_FEDERATION_SWEEP_SECONDS": "1",
}


def eventually(check: Callable[[], T], seconds: float = 20, what: str = "condition") -> T:
    """Federation is asynchronous: poll (bounded) until ``check`` answers something truthy."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {seconds} s")
        time.sleep(0.1)


def query(instance: RunningInstance, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Rows from an instance's own database (tests look at what it stored)."""

    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(instance.database_url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


@dataclass
class Person:
    """A user of one instance, with a signed-in Mastodon.py client."""

    instance: RunningInstance
    username: str
    api: Mastodon

    @property
    def acct(self) -> str:
        return f"{self.username}@{self.instance.domain}"

    @property
    def actor(self) -> str:
        return f"{self.instance.base_url}/users/{self.username}"

    def account_id(self) -> str:
        return str(self.api.me()["id"])

    def find(self, other: Person) -> dict[str, Any]:
        """The other person's account as this person's instance knows it (resolved if new)."""
        return self.api.account_lookup(other.acct)

    def home(self) -> list[dict[str, Any]]:
        return list(self.api.timeline_home(limit=40))

    def home_with(self, uri: str) -> dict[str, Any] | None:
        return next((s for s in self.home() if s["uri"] == uri), None)

    def notifications_of(self, kind: str) -> list[dict[str, Any]]:
        return [n for n in self.api.notifications(limit=40) if n["type"] == kind]

    def relationship(self, other: Person) -> dict[str, Any]:
        return self.api.account_relationships(self.find(other)["id"])[0]


@dataclass
class Cluster:
    """Instances started on demand, stopped (and their databases dropped) at the end."""

    server_url: str
    redis_server_url: str
    tmp: Path
    running: list[RunningInstance] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def start(
        self,
        name: str,
        redis_db: int,
        *,
        port: int | None = None,
        split: bool = False,
        **extra: str | None,
    ) -> RunningInstance:
        """A fresh instance: ``starling run``, or with ``split`` the web processes alone (start
        its worker with ``worker``), so a test can kill the worker by itself."""
        database_url = instance_database_url(self.server_url, f"fed_{name}")
        redis_url = redis_url_with_db(self.redis_server_url, redis_db)
        asyncio.run(_fresh(database_url, redis_url))
        env = {**FEDERATION_ENV, **extra}
        port = port or free_port()
        if split:
            self._migrate(instance_env(name, database_url, redis_url, self.tmp, port=port,
                                       extra_env=env))  # fmt: skip
        instance = start_instance(
            name, database_url, redis_url, self.tmp, port=port, extra_env=env,
            command="web" if split else "run",
        )  # fmt: skip
        self.running.append(instance)
        return instance

    @staticmethod
    def _migrate(env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "instance.cli", "migrate"]
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)

    def worker(self, instance: RunningInstance) -> subprocess.Popen[bytes]:
        """A ``starling worker`` for a split instance (stopped with the cluster)."""
        process = spawn("worker", instance.env, instance.log_path)
        self.workers.append(process)
        return process

    def restart(self, instance: RunningInstance) -> RunningInstance:
        again = restart(instance)
        self.running.append(again)
        return again

    def redis(self, instance: RunningInstance) -> redis.Redis:
        return redis.Redis.from_url(instance.env["STARLING_REDIS_URL"])

    def person(self, instance: RunningInstance, name: str, *, locked: bool = False) -> Person:
        """A new user (a unique name per call) signed up through the client API."""
        username = f"{name}{next(self._names)}"
        with self.redis(instance) as client:  # every sign-up comes from 127.0.0.1: give each
            for key in client.scan_iter("ratelimit:*"):  # its own budget
                client.delete(key)
        base = instance.base_url
        client_id, secret = Mastodon.create_app(f"{name}'s app", api_base_url=base, scopes=SCOPES)
        api = Mastodon(client_id=client_id, client_secret=secret, api_base_url=base)
        api.create_account(
            username, PASSWORD, f"{username}@example.com", agreement=True, scopes=SCOPES
        )
        if locked:
            api.account_update_credentials(locked=True)
        return Person(instance=instance, username=username, api=api)

    def stop_all(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=30)
        for instance in self.running:
            instance.stop()
        for url in dict.fromkeys(instance.database_url for instance in self.running):
            asyncio.run(_drop(url))
        self.running.clear()


async def _fresh(database_url: str, redis_url: str) -> None:
    await drop_database(database_url)
    client = AsyncRedis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()


async def _drop(database_url: str) -> None:
    await drop_database(database_url)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, timeout=10, **kwargs)
