"""What a view needs from the running app: its backends and settings."""

from __future__ import annotations

from quart import current_app

from instance.config import Settings
from services.backends import Backends


def backends() -> Backends:
    return current_app.extensions["starling"]


def settings() -> Settings:
    return current_app.config["STARLING_SETTINGS"]
