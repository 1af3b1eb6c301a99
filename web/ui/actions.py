"""Form actions on posts, accounts and hashtags: like, boost, delete, follow, block, mute,
answer a follow request, follow a hashtag. Each is a POST that ends in a 303 back to the page
it came from (web/ui/forms), through the same services the client API uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from quart import Response

from services import deletion, interactions, relationships, tags
from services.backends import Backends
from services.web_sessions import WebSession
from web.api.paths import snowflake_from_path
from web.deps import backends
from web.ui.blueprint import ui
from web.ui.forms import back
from web.ui.session import signed_in

Act = Callable[[Backends, int, int], Awaitable[object]]

# action -> (what it does, what the next page says; None: the button's new state says it)
POST_ACTIONS: dict[str, tuple[Act, str | None]] = {
    "like": (interactions.like, None),
    "unlike": (interactions.unlike, None),
    "boost": (interactions.boost, None),
    "unboost": (interactions.unboost, None),
    "delete": (deletion.delete_post, "Post deleted."),
}

ACCOUNT_ACTIONS: dict[str, tuple[Act, str]] = {
    "follow": (relationships.follow, "Followed."),
    "unfollow": (relationships.unfollow, "Unfollowed."),
    "block": (relationships.block, "Blocked."),
    "unblock": (relationships.unblock, "Unblocked."),
    "mute": (lambda b, me, them: relationships.mute(b.redis, me, them), "Muted."),
    "unmute": (lambda b, me, them: relationships.unmute(b.redis, me, them), "Unmuted."),
    "authorize": (relationships.authorize, "Follow request accepted."),
    "reject": (relationships.reject, "Follow request rejected."),
}


@ui.post("/statuses/<raw_id>/<action>")
@signed_in
async def post_action(raw_id: str, action: str, session: WebSession) -> Response:
    if action not in POST_ACTIONS:
        return await back(session, "/home", "Unknown action.", kind="error")
    act, message = POST_ACTIONS[action]
    await act(backends(), session.account_id, snowflake_from_path(raw_id))
    return await back(session, "/home", message)


@ui.post("/accounts/<raw_id>/<action>")
@signed_in
async def account_action(raw_id: str, action: str, session: WebSession) -> Response:
    if action not in ACCOUNT_ACTIONS:
        return await back(session, "/home", "Unknown action.", kind="error")
    act, message = ACCOUNT_ACTIONS[action]
    result = await act(backends(), session.account_id, snowflake_from_path(raw_id))
    if action == "follow" and getattr(result, "requested", False):
        message = "Follow request sent: they will decide."
    return await back(session, "/home", message)


@ui.post("/tags/<name>/<action>")
@signed_in
async def tag_action(name: str, action: str, session: WebSession) -> Response:
    if action == "follow":
        tag = await tags.follow_tag(session.account_id, name)
        return await back(session, f"/tags/{tag.name}", f"You follow #{tag.name}.")
    if action == "unfollow":
        tag = await tags.unfollow_tag(session.account_id, name)
        return await back(session, f"/tags/{tag.name}", f"You no longer follow #{tag.name}.")
    return await back(session, "/home", "Unknown action.", kind="error")
