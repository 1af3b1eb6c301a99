"""Profiles at /@user (local) and /@user@host (remote), with their posts, followers and
following. The HTML side of /@user: web/federation serves the same URL to peers as JSON."""

from __future__ import annotations

from typing import Literal

from quart import Response

from services import account_lists, relationships, timelines
from services.accounts import lookup_account
from services.postcache import load_accounts
from services.relationships import Relationship
from web.deps import backends, settings
from web.ui.blueprint import ui
from web.ui.cards import AccountCard, account_card, post_cards
from web.ui.errors import html_errors
from web.ui.paging import next_link, requested_page
from web.ui.render import page
from web.ui.session import viewer_id


async def _profile(acct: str) -> tuple[AccountCard, Relationship | None, int | None]:
    """The account (NotFound unless it exists, not suspended) and the viewer's relationship."""
    account = await lookup_account(acct, settings())
    found = await load_accounts(backends().redis, [account.id])
    viewer = await viewer_id()
    relationship = None
    if viewer is not None and viewer != account.id:
        relationship = await relationships.relationship(viewer, account.id)
    return account_card(found[account.id], settings()), relationship, viewer


@html_errors
async def profile_page(acct: str) -> Response:
    card, relationship, viewer = await _profile(acct)
    wanted = requested_page()
    hydrated = await timelines.read_account(backends().redis, viewer, card.id, wanted)
    return await page(
        "ui/profile.html",
        account=card,
        relationship=relationship,
        posts=post_cards(hydrated, settings()),
        more=next_link([p["id"] for p in hydrated.posts], wanted.limit),
        tab="posts",
    )


async def _people(acct: str, kind: Literal["followers", "following"]) -> Response:
    card, relationship, viewer = await _profile(acct)
    wanted = requested_page(40)
    listed = await account_lists.account_list(backends().redis, kind, card.id, wanted, viewer)
    return await page(
        "ui/profile.html",
        account=card,
        relationship=relationship,
        people=[account_card(item.account, settings()) for item in listed],
        more=next_link(account_lists.row_ids(listed), wanted.limit),
        tab=kind,
    )


@ui.get("/@<acct>/followers")
async def followers(acct: str) -> Response:
    return await _people(acct, "followers")


@ui.get("/@<acct>/following")
async def following(acct: str) -> Response:
    return await _people(acct, "following")
