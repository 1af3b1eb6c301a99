"""Posting from the compose box (home) or a reply box (a post's page)."""

from __future__ import annotations

from quart import Response, request

from models.posts import Visibility
from services import posting
from services.errors import NotFound, ValidationFailed
from services.web_sessions import WebSession
from web.api.paths import snowflake_from_path
from web.deps import backends
from web.ui.blueprint import ui
from web.ui.forms import back
from web.ui.session import signed_in

VISIBILITIES = {v.value: v for v in Visibility}


def _reply_to(raw: str) -> int | None:
    return snowflake_from_path(raw.strip()) if raw.strip() else None


@ui.post("/statuses")
@signed_in
async def compose(session: WebSession) -> Response:
    form = await request.form
    text, spoiler = form.get("status", ""), form.get("spoiler_text", "")
    new = posting.NewPost(
        text=text,
        visibility=VISIBILITIES.get(form.get("visibility", "")),
        in_reply_to_id=_reply_to(form.get("in_reply_to_id", "")),
        spoiler_text=spoiler,
        # One post per compose form shown: a double click or a resubmitted form posts once.
        idempotency_key=form.get("idempotency_key") or None,
    )
    try:
        await posting.create_post(backends(), session.account_id, new)
    except (ValidationFailed, NotFound) as exc:
        message = exc.message.removeprefix("Validation failed: ")
        return await back(session, "/home", message, kind="error", text=text, spoiler=spoiler)
    return await back(session, "/home", "Posted.")
