"""Server-rendered pages. For now, the front page naming the instance."""

from __future__ import annotations

from quart import Blueprint, render_template

from web.deps import settings

ui = Blueprint("ui", __name__, template_folder="templates")


@ui.get("/")
async def home() -> str:
    return await render_template("home.html", instance=settings().instance)
