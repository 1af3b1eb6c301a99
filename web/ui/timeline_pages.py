"""The landing page, the home, local and federated timelines, and hashtag pages."""

from __future__ import annotations

from urllib.parse import urlencode

from quart import Response, redirect

from services import instance as instance_service
from services import tags, timelines
from services.paging import Page
from services.statuses import Hydrated
from services.tags import TagFilter
from services.web_sessions import WebSession
from web.deps import backends, settings
from web.ui.blueprint import ui
from web.ui.cards import post_cards
from web.ui.paging import next_link, requested_page
from web.ui.render import page
from web.ui.session import current_session, signed_in, viewer_id

LANDING_POSTS = 5


async def _timeline(template: str, hydrated: Hydrated, page_size: int, **context: object):
    posts = post_cards(hydrated, settings())
    more = next_link([p["id"] for p in hydrated.posts], page_size)
    return await page(template, posts=posts, more=more, **context)


@ui.get("/")
async def landing() -> Response:
    if await current_session():
        return redirect("/home", 303)
    recent = await timelines.read_public(
        backends().redis, None, Page(limit=LANDING_POSTS), local_only=True
    )
    about = await instance_service.instance_info(settings())
    return await page(
        "ui/landing.html",
        posts=post_cards(recent, settings()),
        about=about,
        # Escaped text in <p> and <br>: the template marks it safe.
        about_html=instance_service.paragraphs_html(about.extended_description),
    )


@ui.get("/home")
@signed_in
async def home(session: WebSession) -> Response:
    b, wanted = backends(), requested_page()
    hydrated = await timelines.read_home(b.redis, b.settings, session.account_id, wanted)
    return await _timeline(
        "ui/timeline.html", hydrated, wanted.limit, title="Home", tab="home", compose=True,
        live="/api/v1/streaming/user",
    )  # fmt: skip


async def _public(local_only: bool, title: str, tab: str, live: str) -> Response:
    wanted = requested_page()
    hydrated = await timelines.read_public(
        backends().redis, await viewer_id(), wanted, local_only=local_only
    )
    return await _timeline(
        "ui/timeline.html", hydrated, wanted.limit, title=title, tab=tab, live=live
    )


@ui.get("/public/local")
async def local_timeline() -> Response:
    return await _public(True, "Local", "local", "/api/v1/streaming/public/local")


@ui.get("/public")
async def federated_timeline() -> Response:
    return await _public(False, "Federated", "federated", "/api/v1/streaming/public")


@ui.get("/tags/<name>")
async def tag_page(name: str) -> Response:
    viewer, wanted = await viewer_id(), requested_page()
    tag = await tags.show_tag(name, viewer)
    hydrated = await tags.read_tag_timeline(backends().redis, viewer, name, wanted, TagFilter())
    return await _timeline(
        "ui/tag.html", hydrated, wanted.limit, title=f"#{tag.name}", tag=tag, tab="tag",
        live=f"/api/v1/streaming/hashtag?{urlencode({'tag': tag.name})}",
    )  # fmt: skip
