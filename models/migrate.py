"""Schema migrations with Tortoise's own migration engine (``models/migrations/``)."""

from __future__ import annotations

from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.migrations.writer import MigrationWriter, format_migration_name

from models import tortoise_config


async def apply_migrations(database_url: str) -> None:
    """Bring the database up to the newest migration (idempotent)."""
    async with TortoiseContext():
        await migrate(config=tortoise_config(database_url))


async def pending_changes(database_url: str) -> list[MigrationWriter]:
    """Migrations the models need that ``models/migrations/`` lacks (empty: in sync)."""
    config = tortoise_config(database_url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config, init_connections=False)
        if ctx.apps is None:
            raise RuntimeError("Tortoise did not load the apps")
        return await MigrationAutodetector(ctx.apps, config["apps"]).changes()


async def make_migrations(database_url: str, name: str | None = None) -> list[str]:
    """Write migration files for model changes; returns their paths."""
    paths = []
    for writer in await pending_changes(database_url):
        if name:
            writer.name = format_migration_name(int(writer.name.split("_", 1)[0]), name)
        path = writer.write()
        _keep_snowflake_keys(path)
        paths.append(str(path))
    return paths


def _keep_snowflake_keys(path: Path) -> None:
    """Tortoise's writer drops ``generated=False``; without it the primary key becomes a serial."""
    text = path.read_text(encoding="utf-8")
    text = text.replace("BigIntField(primary_key=True, default=next_id", _SNOWFLAKE_FIELD)
    path.write_text(text, encoding="utf-8")


_SNOWFLAKE_FIELD = "BigIntField(primary_key=True, generated=False, default=next_id"
