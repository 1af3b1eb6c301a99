"""Applying received activities: one handler per activity type, picked by ``dispatch.HANDLERS``.

A handler gets the activity (parsed) and the actor that sent it (whose signature the inbox
verified), changes our rows through the same services a local user's action goes through,
and answers ``DONE`` or ``IGNORED`` (nothing here concerns us). Protocol problems raise
``ParseError``; a fetch that may work later raises a retryable ``FetchError``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from activitypub.parse import ParsedActivity
from models.accounts import Account
from services.backends import Backends

DONE = "done"
IGNORED = "ignored"


@dataclass(frozen=True)
class Inbound:
    backends: Backends
    activity: ParsedActivity
    actor: Account  # the verified sender

    @property
    def activity_id(self) -> str:
        return self.activity.id or ""


Handler = Callable[[Inbound], Awaitable[str]]
