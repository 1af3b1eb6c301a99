"""The ``starling`` command: run, web, worker, migrate, makemigrations, create-user, reindex."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator

from instance.config import ConfigError, Settings, load_settings


def _fail(message: str) -> None:
    print(f"starling: {message}", file=sys.stderr)
    raise SystemExit(2)


@contextlib.contextmanager
def backing_services(settings: Settings) -> Iterator[Settings]:
    """Settings with the database and Redis in use; embedded ones stop when the block ends.

    The chosen URLs are also exported to the environment, so processes we start (Hypercorn
    workers, the arq worker) use the same services.
    """
    from instance.backing import resolve_backing_services

    resolved, embedded = resolve_backing_services(settings)
    os.environ["STARLING_DATABASE_URL"] = resolved.database.url
    os.environ["STARLING_REDIS_URL"] = resolved.redis.url
    try:
        yield resolved
    finally:
        if embedded is not None:
            embedded.close()


def _migrate(settings: Settings) -> None:
    from instance.backing import ensure_database
    from models.migrate import apply_migrations

    async def migrate() -> None:
        await ensure_database(settings.database.url)
        await apply_migrations(settings.database.url)

    asyncio.run(migrate())


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> None:
    with backing_services(settings) as resolved:
        _migrate(resolved)
        print("starling: database is up to date")


def cmd_makemigrations(settings: Settings, args: argparse.Namespace) -> None:
    from models.migrate import make_migrations

    with backing_services(settings) as resolved:
        paths = asyncio.run(make_migrations(resolved.database.url, args.name))
    print("\n".join(f"created {path}" for path in paths) or "no changes")


def serve_web(settings: Settings) -> None:
    """Hypercorn on uvloop with ``server.workers`` processes, until SIGINT/SIGTERM."""
    from hypercorn.config import Config
    from hypercorn.run import run

    config = Config()
    config.application_path = "instance.asgi:app"
    config.bind = [f"{settings.server.host}:{settings.server.port}"]
    config.worker_class = "uvloop"
    config.workers = settings.server.workers
    config.accesslog = None
    config.errorlog = "-"
    run(config)


def cmd_web(settings: Settings, _args: argparse.Namespace) -> None:
    with backing_services(settings) as resolved:
        serve_web(resolved)


def cmd_worker(settings: Settings, _args: argparse.Namespace) -> None:
    from workers.settings import run_worker

    with backing_services(settings) as resolved:
        run_worker(resolved)


def cmd_run(settings: Settings, _args: argparse.Namespace) -> None:
    """Migrate, then Hypercorn and one arq worker as child processes; Ctrl-C stops both."""
    with backing_services(settings) as resolved:
        _migrate(resolved)
        command = [sys.executable, "-m", "instance.cli"]
        children = [
            subprocess.Popen([*command, "web"]),  # noqa: S603 - our own interpreter and module
            subprocess.Popen([*command, "worker"]),  # noqa: S603
        ]
        print(f"starling: {resolved.instance.name} is running at {resolved.base_url}", flush=True)
        _supervise(children)


def _supervise(children: list[subprocess.Popen[bytes]]) -> None:
    """Wait until a child exits or we are told to stop; then stop the others."""

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # Explicitly, for both: a shell starts background jobs with SIGINT ignored, and Python
    # then never raises KeyboardInterrupt.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(child.poll() is None for child in children):
            with contextlib.suppress(subprocess.TimeoutExpired):
                children[0].wait(timeout=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        print("starling: stopped", flush=True)


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="starling",
        description="Starling: a federated microblogging server. Settings come from "
        "config.toml (or $STARLING_CONFIG) and STARLING_<SECTION>_<KEY> variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run", help="migrate, then serve the web app and one worker (Ctrl-C stops both)"
    )
    commands.add_parser("web", help="serve the web app with Hypercorn (server.workers processes)")
    commands.add_parser("worker", help="run one background worker (arq)")
    commands.add_parser("migrate", help="create the database if needed and apply migrations")
    make = commands.add_parser("makemigrations", help="write migrations for model changes")
    make.add_argument("--name", help="a name for the migration file")
    create = commands.add_parser("create-user", help="create a local account that can sign in")
    create.add_argument("name", help="username: 1-30 letters, digits or underscores")
    create.add_argument("email", help="e-mail address used to sign in")
    create.add_argument("--password", required=True, help="at least 8 characters")
    create.add_argument("--admin", action="store_true", help="give the account the admin role")
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
    "reindex": cmd_reindex,
}


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail(str(exc))
        return
    COMMANDS[args.command](settings, args)


if __name__ == "__main__":
    main()
