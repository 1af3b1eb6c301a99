"""Tortoise models, one module per aggregate, and the ORM configuration."""

from __future__ import annotations

import importlib
from typing import Any

import asyncpg
from tortoise.backends.base.client import BaseDBAsyncClient
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


def replica_client(database_url: str, name: str) -> BaseDBAsyncClient:
    """A Tortoise client for a read replica (services/reads), kept outside Tortoise's
    registry: with a second registered connection every bare ``in_transaction()`` would have
    to name one. It connects on first use, so a replica that is down does not stop a start."""
    info = _connection(database_url)
    engine = importlib.import_module(info["engine"])
    client_class = (
        engine.get_client_class(info)
        if hasattr(engine, "get_client_class")
        else engine.client_class
    )
    return client_class(connection_name=name, **info["credentials"])


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
