"""What templates show of accounts, posts and notifications: plain values built from the
hydrated snapshots the services return, so templates hold no rules and trigger no queries.

Text from users stays as it came: display names and content warnings are escaped by Jinja's
autoescape when shown; post HTML and bios are the sanitised HTML services/text made.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from instance.config import Settings
from models.posts import Visibility
from services.notifications import Item, NotificationPage
from services.postcache import Snapshot
from services.statuses import Hydrated
from web.ui.avatars import avatar_url
from web.ui.timefmt import ago, iso

VISIBILITY_LABELS = {
    Visibility.PUBLIC: "Public",
    Visibility.UNLISTED: "Unlisted",
    Visibility.FOLLOWERS: "Followers only",
    Visibility.DIRECT: "Mentioned people only",
}


@dataclass(frozen=True)
class AccountCard:
    id: int
    name: str  # the display name, or the username when there is none
    acct: str  # user (local) or user@host: what /@... pages are named by
    handle: str  # @user@host, with our domain for local accounts
    url: str  # the profile page here
    remote_url: str | None  # the profile on its own server, for remote accounts
    uri: str  # the ActivityPub actor id
    avatar: str
    note: str  # sanitised HTML
    locked: bool
    bot: bool
    local: bool
    posts_count: int
    following_count: int
    followers_count: int


def account_card(account: Snapshot, settings: Settings) -> AccountCard:
    domain = account["domain"]
    acct = account["username"] if domain is None else f"{account['username']}@{domain}"
    return AccountCard(
        id=account["id"],
        name=account["display_name"] or account["username"],
        acct=acct,
        handle=f"@{acct}" if domain else f"@{acct}@{settings.instance.domain}",
        url=f"/@{quote(acct, safe='@')}",
        remote_url=(account["url"] or account["uri"]) if domain else None,
        uri=account["uri"],
        avatar=avatar_url(account["id"], account["avatar_url"]),
        note=account["note"] or "",
        locked=account["locked"],
        bot=account["bot"],
        local=domain is None,
        posts_count=account["posts_count"],
        following_count=account["following_count"],
        followers_count=account["followers_count"],
    )


@dataclass(frozen=True)
class PostCard:
    id: int  # the post shown (for a boost: the boosted post)
    uri: str  # its ActivityPub id
    entry_id: int  # the timeline entry (the boost itself, for a boost): pages on it
    url: str  # its page here
    author: AccountCard
    boosted_by: AccountCard | None
    html: str
    spoiler_text: str
    visibility: str
    visibility_label: str
    created_iso: str
    created_ago: str
    replies_count: int
    boosts_count: int
    likes_count: int
    liked: bool
    boosted: bool
    own: bool
    boostable: bool
    in_reply_to_id: int | None


def _cards(hydrated: Hydrated, settings: Settings) -> dict[int, AccountCard]:
    return {i: account_card(a, settings) for i, a in hydrated.accounts.items()}


def post_card(
    entry: Snapshot, hydrated: Hydrated, settings: Settings, cards: dict[int, AccountCard]
) -> PostCard:
    original = hydrated.originals.get(entry["boost_of_id"]) if entry["boost_of_id"] else None
    post = original or entry
    viewer = hydrated.viewer
    author = cards[post["author_id"]]
    visibility = Visibility(post["visibility"])
    return PostCard(
        id=post["id"],
        uri=post["uri"],
        entry_id=entry["id"],
        url=f"{author.url}/{post['id']}",
        author=author,
        boosted_by=cards[entry["author_id"]] if original else None,
        html=post["html"],
        spoiler_text=post["spoiler_text"] or "",
        visibility=visibility.value,
        visibility_label=VISIBILITY_LABELS[visibility],
        created_iso=iso(post["created_at"]),
        created_ago=ago(post["created_at"]),
        replies_count=post["replies_count"],
        boosts_count=post["boosts_count"],
        likes_count=post["likes_count"],
        liked=post["id"] in viewer.liked,
        boosted=post["id"] in viewer.boosted,
        own=viewer.viewer_id == post["author_id"],
        boostable=visibility in (Visibility.PUBLIC, Visibility.UNLISTED),
        in_reply_to_id=post["in_reply_to_id"],
    )


def post_cards(hydrated: Hydrated, settings: Settings) -> list[PostCard]:
    cards = _cards(hydrated, settings)
    return [post_card(entry, hydrated, settings, cards) for entry in hydrated.posts]


NOTIFICATION_TEXT = {
    "mention": "mentioned you",
    "favourite": "liked your post",
    "reblog": "boosted your post",
    "follow": "followed you",
    "follow_request": "asked to follow you",
    "status": "posted",
    "update": "edited a post",
    "admin.sign_up": "signed up",
}


@dataclass(frozen=True)
class NotificationCard:
    id: int
    type: str
    text: str
    actor: AccountCard
    post: PostCard | None
    created_iso: str
    created_ago: str


def notification_cards(page: NotificationPage, settings: Settings) -> list[NotificationCard]:
    cards = _cards(page.hydrated, settings)
    return [_notification(item, page, settings, cards) for item in page.items]


def _notification(
    item: Item, page: NotificationPage, settings: Settings, cards: dict[int, AccountCard]
) -> NotificationCard:
    post = page.post_of(item)
    return NotificationCard(
        id=item.id,
        type=item.type,
        text=NOTIFICATION_TEXT.get(item.type, item.type.replace("_", " ")),
        actor=cards[item.actor_id],
        post=post_card(post, page.hydrated, settings, cards) if post else None,
        created_iso=iso(item.created_at),
        created_ago=ago(item.created_at),
    )


def og_description(text: str, limit: int = 200) -> str:
    """A one-line summary for OpenGraph previews."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
