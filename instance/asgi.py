"""The ASGI entry point Hypercorn loads: ``instance.asgi:app``."""

from __future__ import annotations

from instance.app import create_app
from instance.logs import configure_logging

configure_logging()
app = create_app()
