"""Search: accounts and hashtags for everyone, posts for signed-in users (as in Mastodon)."""

from __future__ import annotations

from quart import Response, request

from services import search, tags
from services.errors import Unavailable
from services.search import AccountSearch, PostSearch
from services.statuses import Hydrated
from web.deps import backends, settings
from web.ui.blueprint import ui
from web.ui.cards import account_card, post_cards
from web.ui.render import page
from web.ui.session import viewer_id

RESULTS = 20
MAX_QUERY = 500


@ui.get("/search")
async def search_page() -> Response:
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    if not query:
        return await page("ui/search.html", title="Search", tab="search", query="")
    viewer, b = await viewer_id(), backends()
    problem = None
    try:
        people = await search.search_accounts(b, viewer, AccountSearch(query, RESULTS))
        found = (
            await search.search_posts(b, viewer, PostSearch(query, RESULTS))
            if viewer is not None
            else Hydrated(posts=[])
        )
    except Unavailable as exc:
        people, found, problem = [], Hydrated(posts=[]), exc.message
    return await page(
        "ui/search.html",
        title="Search",
        tab="search",
        query=query,
        problem=problem,
        people=[account_card(a, settings()) for a in people],
        hashtags=await tags.search_tags(query, 10, 0, viewer_id=viewer),
        posts=post_cards(found, settings()),
        signed_out=viewer is None,
    )
