"""Tortoise models, one module per aggregate, and the ORM configuration."""

from __future__ import annotations

from typing import Any

MODEL_MODULES = [
    "models.accounts",
    "models.posts",
    "models.relationships",
    "models.notifications",
    "models.federation",
    "models.oauth",
    "models.admin",
]


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise configuration for one database, with our migrations package."""
    return {
        "connections": {"default": database_url},
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
