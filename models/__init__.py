"""Tortoise models, one module per aggregate, and the ORM configuration."""

from __future__ import annotations

from typing import Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

MODEL_MODULES = [
    "models.accounts",
    "models.posts",
    "models.relationships",
    "models.notifications",
    "models.federation",
    "models.oauth",
    "models.admin",
]


# Connections per process. Hypercorn runs several processes, plus the workers: keep the sum
# under PostgreSQL's max_connections (100 by default).
POOL_SIZE = 10


class LeanConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled connection without the reset query on release.

    asyncpg's default reset (``RESET ALL; CLOSE ALL; UNLISTEN *; …``) costs a round trip after
    every query, about a tenth of a timeline read. We keep no session state it would clear
    (no SET, LISTEN, open cursors or advisory locks); an open transaction is still rolled back.
    """

    def get_reset_query(self) -> str:
        return ""


def _connection(database_url: str) -> dict[str, Any]:
    connection = expand_db_url(database_url)
    if connection["engine"] == "tortoise.backends.asyncpg":
        connection["credentials"] |= {"connection_class": LeanConnection, "maxsize": POOL_SIZE}
    return connection


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise configuration for one database, with our migrations package."""
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "migrations": "models.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }
