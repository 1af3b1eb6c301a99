"""The ASGI entry point Hypercorn loads: ``instance.asgi:app``."""

from __future__ import annotations

import logging

from instance.app import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
app = create_app()
