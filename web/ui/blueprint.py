"""The web UI's blueprint; each web/ui module adds its pages and form actions to it."""

from __future__ import annotations

from quart import Blueprint

ui = Blueprint("ui", __name__, template_folder="templates")
