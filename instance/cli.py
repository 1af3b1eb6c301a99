"""The ``starling`` command: run, web, worker, migrate, makemigrations, create-user, role,
domains, reindex."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import NoReturn

from instance import domains_cli, metrics_dir
from instance.config import ConfigError, Settings, load_settings
from instance.logs import configure_logging
from instance.supervisor import REPORTED, StartFailed, health_url, listen_socket, supervise


def _fail(message: str) -> NoReturn:
    print(f"starling: {message}", file=sys.stderr)
    raise SystemExit(REPORTED)


@contextlib.contextmanager
def backing_services(settings: Settings) -> Iterator[Settings]:
    """Settings with the database and Redis in use; embedded ones stop when the block ends.

    The chosen URLs are also exported to the environment, so processes we start (Hypercorn
    workers, the arq worker) use the same services.
    """
    from instance.backing import Unreachable, check_configured, resolve_backing_services

    try:
        check_configured(settings)
    except Unreachable as exc:
        _fail(str(exc))
    resolved, embedded = resolve_backing_services(settings)
    os.environ["STARLING_DATABASE_URL"] = resolved.database.url
    os.environ["STARLING_REDIS_URL"] = resolved.redis.url
    try:
        yield resolved
    finally:
        if embedded is not None:
            embedded.close()


def _migrate(settings: Settings) -> None:
    import asyncpg

    from instance.backing import POSTGRES, Unreachable, ensure_database
    from models.migrate import apply_migrations

    async def migrate() -> None:
        url = settings.database.url
        try:
            await ensure_database(url)
        except (OSError, asyncpg.PostgresError) as exc:  # it answers, but not as we need
            raise Unreachable(POSTGRES, url, exc) from None
        await apply_migrations(url)

    try:
        asyncio.run(migrate())
    except Unreachable as exc:
        _fail(str(exc))


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    with backing_services(settings) as resolved:
        _migrate(resolved)
        if not args.quiet:
            print("starling: database is up to date")


def cmd_makemigrations(settings: Settings, args: argparse.Namespace) -> None:
    from models.migrate import make_migrations

    with backing_services(settings) as resolved:
        paths = asyncio.run(make_migrations(resolved.database.url, args.name))
    print("\n".join(f"created {path}" for path in paths) or "no changes")


def _listen(settings: Settings) -> socket.socket:
    """The web server's socket, bound now: a taken port stops us in one line."""
    try:
        return listen_socket(settings.server.host, settings.server.port)
    except StartFailed as exc:
        _fail(str(exc))


def serve_web(settings: Settings, listener: socket.socket) -> int:
    """Hypercorn on uvloop with ``server.workers`` processes on ``listener``, until SIGINT or
    SIGTERM; returns Hypercorn's exit code (non-zero when a worker process failed)."""
    from hypercorn.config import Config
    from hypercorn.run import run

    config = Config()
    config.application_path = "instance.asgi:app"
    config.bind = [f"fd://{listener.detach()}"]  # Hypercorn owns the socket from here on
    config.worker_class = "uvloop"
    # One process serves in this one: no master process and no spawned worker (0 = in-process).
    config.workers = settings.server.workers if settings.server.workers > 1 else 0
    config.accesslog = None
    # A logger, not "-": Hypercorn's lines then go through our handler (JSON when configured).
    config.errorlog = logging.getLogger("hypercorn.error")
    return run(config)


def cmd_web(settings: Settings, args: argparse.Namespace) -> None:
    # Under ``starling run`` the supervisor has bound the socket and hands it down.
    fd = args.listen_fd
    listener = socket.socket(fileno=fd) if fd is not None else _listen(settings)
    with backing_services(settings) as resolved:
        metrics_dir.prepare(resolved)  # before Hypercorn spawns the processes that record
        configure_logging(resolved)
        code = serve_web(resolved, listener)
    if code:
        raise SystemExit(code)


def cmd_worker(settings: Settings, args: argparse.Namespace) -> None:
    with backing_services(settings) as resolved:
        metrics_dir.prepare(resolved)  # before the worker imports prometheus-client
        from workers.settings import run_worker

        run_worker(resolved, args.queue, args.concurrency)


def cmd_run(settings: Settings, _args: argparse.Namespace) -> None:
    """Migrate, then serve the web app and run the jobs: in this one process (server.workers
    = 1 and worker.embedded), else Hypercorn and one arq worker as child processes; Ctrl-C
    stops everything."""
    listener = _listen(settings)
    with backing_services(settings) as resolved:
        metrics_dir.prepare(resolved)  # one directory for the children's metrics, inherited
        if resolved.worker.embedded and resolved.server.workers == 1:
            _migrate(resolved)  # the models are this process's anyway
            code = _run_embedded(resolved, listener)
        else:
            _migrate_in_child()
            code = _run_children(resolved, listener)
    if code:
        raise SystemExit(code)


def _running_line(settings: Settings) -> str:
    return f"starling: {settings.instance.name} is running at {settings.base_url}"


def _run_embedded(settings: Settings, listener: socket.socket) -> int:
    from instance.embedded import serve_embedded

    configure_logging(settings)
    url = health_url(listener)
    return serve_embedded(settings, listener, url, _running_line(settings))


def _migrate_in_child() -> None:
    """``starling migrate`` in a process of its own, so that the supervisor never imports the
    models (a copy of them would stay in its memory all along); it says why if it fails."""
    command = [sys.executable, "-m", "instance.cli", "migrate", "--quiet"]
    code = subprocess.run(command, check=False).returncode  # noqa: S603 - our own module
    if code:
        raise SystemExit(code)


def _run_children(settings: Settings, listener: socket.socket) -> int:
    """Hypercorn (``starling web``) and one arq worker as child processes, supervised."""
    command = [sys.executable, "-m", "instance.cli"]
    fd = listener.fileno()
    web = [*command, "web", f"--listen-fd={fd}"]  # it inherits the bound socket
    children = {
        "web server": subprocess.Popen(web, pass_fds=[fd]),  # noqa: S603 - our own module
        "worker": subprocess.Popen([*command, "worker"]),  # noqa: S603
    }
    url = health_url(listener)
    listener.close()  # the web server holds its own copy
    return supervise(children, url, _running_line(settings))


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> None:
    from models.accounts import Role
    from services.accounts import NewAccount, create_local_account
    from services.errors import StarlingError

    async def create(resolved: Settings) -> None:
        from tortoise import Tortoise

        from models import tortoise_config

        await Tortoise.init(config=tortoise_config(resolved.database.url))
        try:
            role = Role.ADMIN if args.admin else Role.USER
            new = NewAccount(
                username=args.name, email=args.email, password=args.password, role=role
            )
            user = await create_local_account(resolved, new)
            print(f"starling: created {role.value} @{args.name} (account id {user.account_id})")  # type: ignore[attr-defined]
        except StarlingError as exc:
            _fail(exc.message)
        finally:
            await Tortoise.close_connections()

    with backing_services(settings) as resolved:
        _migrate(resolved)
        asyncio.run(create(resolved))


def cmd_role(settings: Settings, args: argparse.Namespace) -> None:
    """Make a local user an admin, a moderator, or a plain user again."""
    from services import roles
    from services.errors import StarlingError

    async def change(resolved: Settings) -> str:
        from instance import lifecycle

        await lifecycle.open_orm(resolved)
        try:
            role = roles.parse_role(args.role)
            user = await roles.set_role(await roles.user_by_username(args.name), role)
            return f"starling: @{user.account.username} is now {role.value}"
        finally:
            await lifecycle.close_orm()

    with backing_services(settings) as resolved:
        _migrate(resolved)
        try:
            print(asyncio.run(change(resolved)))
        except StarlingError as exc:
            _fail(exc.message)


def cmd_domains(settings: Settings, args: argparse.Namespace) -> None:
    """Block, unblock and list remote domains (instance/domains_cli)."""
    from services.errors import StarlingError

    with backing_services(settings) as resolved:
        _migrate(resolved)
        try:
            print(domains_cli.run(resolved, args))
        except StarlingError as exc:
            _fail(exc.message)


def cmd_reindex(settings: Settings, _args: argparse.Namespace) -> None:
    """Rebuild the search index from Postgres beside the one in use, then switch to it."""
    from tqdm import tqdm

    from instance import lifecycle
    from services import search_index

    async def reindex(resolved: Settings) -> int:
        await lifecycle.open_orm(resolved)
        try:
            total = await search_index.total_documents()
            with tqdm(total=total, unit=" docs", desc="reindex", dynamic_ncols=True) as bar:
                count = await search_index.rebuild(resolved, progress=bar.update)
            await search_index.index_pending(resolved)  # changes made meanwhile
            return count
        finally:
            await lifecycle.close_orm()

    with backing_services(settings) as resolved:
        _migrate(resolved)
        try:
            count = asyncio.run(reindex(resolved))
        except search_index.IndexBusy as exc:
            _fail(f"{exc}; try again in a moment")
        except OSError as exc:
            _fail(f"cannot write the search index: {exc}")
    print(f"starling: search index rebuilt with {count} documents")


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 1 or more")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="starling",
        description="Starling: a federated microblogging server. Settings come from "
        "config.toml (or $STARLING_CONFIG) and STARLING_<SECTION>_<KEY> variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run",
        help="migrate, then serve the web app and run the jobs (Ctrl-C stops everything)",
    )
    web = commands.add_parser(
        "web", help="serve the web app with Hypercorn (server.workers processes)"
    )
    # Internal: `starling run` binds the address itself and passes the socket down.
    web.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)
    worker = commands.add_parser("worker", help="run one background worker (arq)")
    worker.add_argument(
        "--queue",
        choices=("all", "jobs", "search"),
        default="all",
        help="jobs: deliveries, inbox, fan-out, sweeps; search: the indexer; all: both (default)",
    )
    worker.add_argument(
        "--concurrency",
        type=_positive,
        metavar="N",
        help="jobs run at once by this process (default 128; the search indexer runs one)",
    )
    migrate = commands.add_parser(
        "migrate", help="create the database if needed and apply migrations"
    )
    migrate.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    make = commands.add_parser("makemigrations", help="write migrations for model changes")
    make.add_argument("--name", help="a name for the migration file")
    create = commands.add_parser("create-user", help="create a local account that can sign in")
    create.add_argument("name", help="username: 1-30 letters, digits or underscores")
    create.add_argument("email", help="e-mail address used to sign in")
    create.add_argument("--password", required=True, help="at least 8 characters")
    create.add_argument("--admin", action="store_true", help="give the account the admin role")
    role = commands.add_parser("role", help="make a local user an admin, moderator or user")
    role.add_argument("name", help="username of a local account")
    role.add_argument("role", help="admin, moderator or user")
    domains_cli.add_parser(commands)
    commands.add_parser(
        "reindex", help="rebuild the search index from the database (the instance may keep running)"
    )
    return parser


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], None]] = {
    "run": cmd_run,
    "web": cmd_web,
    "worker": cmd_worker,
    "migrate": cmd_migrate,
    "makemigrations": cmd_makemigrations,
    "create-user": cmd_create_user,
    "role": cmd_role,
    "domains": cmd_domains,
    "reindex": cmd_reindex,
}


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail(str(exc))
        return
    try:
        COMMANDS[args.command](settings, args)
    except KeyboardInterrupt:  # Ctrl-C (or `run` stopping us) while still starting: no traceback
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
