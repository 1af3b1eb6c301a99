"""A post's page at /@user/<id> (and /@user@host/<id> for a remote post held here): the post,
its thread, and a reply box. The HTML side of the URL web/federation serves peers as a Note."""

from __future__ import annotations

from quart import Response, redirect

from services import threads
from services.errors import NotFound
from services.statuses import hydrate
from web.api.paths import snowflake_from_path
from web.deps import backends, settings
from web.ui.cards import post_cards
from web.ui.errors import html_errors
from web.ui.render import page
from web.ui.session import viewer_id


@html_errors
async def post_page(acct: str, raw_id: str) -> Response:
    post_id = snowflake_from_path(raw_id)
    viewer = await viewer_id()
    ancestors, descendants = await threads.thread(backends(), viewer, post_id)
    hydrated = await hydrate(backends().redis, viewer, [*ancestors, post_id, *descendants])
    cards = {card.entry_id: card for card in post_cards(hydrated, settings())}
    focus = cards.get(post_id)
    if focus is not None and focus.boosted_by and focus.boosted_by.acct.lower() == acct.lower():
        return redirect(focus.url, 303)  # a boost has no page of its own: its post's
    if focus is None or focus.author.acct.lower() != acct.lower().removeprefix("@"):
        raise NotFound("Record not found")  # hidden, or not this author's: never guess
    mention = "" if focus.own else f"@{focus.author.acct} "
    return await page(
        "ui/post.html",
        post=focus,
        ancestors=[cards[i] for i in ancestors if i in cards],
        descendants=[cards[i] for i in descendants if i in cards],
        reply_text=mention,
    )
