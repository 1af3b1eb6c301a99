"""A cast for tests: OAuth apps, local users and their bearer tokens, made through the services.

Each helper writes real rows (tests truncate every table afterwards) and returns what a test
needs next: an app's credentials, a user, a raw token to send as ``Authorization: Bearer``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from instance.config import Settings
from models.accounts import Account, Role, User
from models.ids import next_id
from models.posts import Mention, Post, Visibility
from services import oauth
from services.accounts import NewAccount, create_local_account
from services.applications import ClientApp, register_application

PASSWORD = "correct horse battery"
REDIRECT_URI = "https://app.example/callback"


# OAuth applications and tokens


async def make_app(
    *,
    name: str = "Test App",
    redirect_uris: Sequence[str] = (REDIRECT_URI,),
    scopes: str = "read write follow push",
    website: str | None = "https://app.example",
) -> ClientApp:
    """A registered client; ``client_id`` and ``client_secret`` are set."""
    return await register_application(
        name=name, redirect_uris=list(redirect_uris), scopes=scopes, website=website
    )


async def token_for(
    user: User | None, scopes: str = "read write follow", *, app: ClientApp | None = None
) -> str:
    """A raw bearer token for ``user`` (None: a client-credentials token) through ``app``."""
    app = app or await make_app(scopes=scopes)
    raw, _ = await oauth.issue_token(
        application_id=app.id,
        user_id=user.id if user else None,
        scopes=frozenset(scopes.split()),
    )
    return raw


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# Accounts


async def make_user(
    settings: Settings,
    username: str = "alice",
    password: str = PASSWORD,
    *,
    email: str | None = None,
    role: Role = Role.USER,
    approved: bool = True,
) -> User:
    """A local account that can sign in with ``username`` or ``email`` and ``password``."""
    new = NewAccount(
        username=username,
        email=email or f"{username}@example.com",
        password=password,
        role=role,
        approved=approved,
    )
    return await create_local_account(settings, new)


# Posts (written directly, for tests about what happens *to* posts; tests about posting itself
# go through services.posting or the API)


async def make_post(
    author: Account,
    text: str = "hello",
    *,
    visibility: Visibility = Visibility.PUBLIC,
    mentions: Sequence[Account] = (),
) -> Post:
    """A plain post by ``author`` with ``mentions`` recorded (no fan-out, no notifications)."""
    post_id = next_id()
    post = await Post.create(
        id=post_id,
        author=author,
        uri=f"{author.uri}/statuses/{post_id}",
        text=text,
        html=f"<p>{html.escape(text)}</p>",
        visibility=visibility,
    )
    for account in mentions:
        await Mention.create(post=post, account=account)
    return post


async def make_remote_account(username: str = "rob", domain: str = "remote.example") -> Account:
    """An account of another server, as if fetched from it (no key: nothing verifies it)."""
    return await Account.create(
        username=username,
        domain=domain,
        acct=f"{username}@{domain}",
        uri=f"https://{domain}/users/{username}",
        inbox_uri=f"https://{domain}/users/{username}/inbox",
        shared_inbox_uri=f"https://{domain}/inbox",
    )


async def account_of(user: User) -> Account:
    return await Account.get(id=user.account_id)  # type: ignore[attr-defined]


async def member(
    settings: Settings, name: str, scopes: str = "read write follow"
) -> tuple[Account, str]:
    """A local account and a raw bearer token for it."""
    user = await make_user(settings, name)
    return await account_of(user), await token_for(user, scopes)
