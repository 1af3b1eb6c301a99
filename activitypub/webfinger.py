"""WebFinger (RFC 7033) as the fediverse uses it: ``acct:user@host`` -> the actor's id.

Pure: building our JRD, reading a peer's, and the URL to ask. The request itself goes through
``activitypub.client`` (the caller's SafeClient).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from activitypub.errors import ParseError
from activitypub.vocab import ACTIVITY_JSON, is_activity_json

PROFILE_PAGE = "http://webfinger.net/rel/profile-page"
SELF = "self"
# user@host, where host may carry a port (our test peers are 127.0.0.1:PORT).
_ACCT = re.compile(r"^@?([^@\s/]+)@([A-Za-z0-9.\-]+(?::\d{1,5})?)$")


@dataclass(frozen=True)
class Acct:
    username: str
    host: str

    def __str__(self) -> str:
        return f"{self.username}@{self.host}"


def parse_acct(text: str) -> Acct | None:
    """``acct:user@host``, ``@user@host`` or ``user@host`` -> Acct; anything else -> None."""
    text = text.strip()
    if text.lower().startswith("acct:"):
        text = text[5:]
    match = _ACCT.match(text)
    if match is None:
        return None
    return Acct(username=match.group(1), host=match.group(2).lower())


def lookup_url(acct: Acct, scheme: str = "https") -> str:
    resource = quote(f"acct:{acct}", safe=":@")
    return f"{scheme}://{acct.host}/.well-known/webfinger?resource={resource}"


def jrd(subject: str, actor_id: str, profile_url: str) -> dict[str, Any]:
    """Our answer for one actor: subject, aliases, the ``self`` link Mastodon follows, and
    the profile page."""
    return {
        "subject": subject,
        "aliases": list(dict.fromkeys([profile_url, actor_id])),
        "links": [
            {"rel": PROFILE_PAGE, "type": "text/html", "href": profile_url},
            {"rel": SELF, "type": ACTIVITY_JSON, "href": actor_id},
        ],
    }


@dataclass(frozen=True)
class Finger:
    subject: Acct | None
    actor_id: str


def parse_jrd(document: object) -> Finger:
    """The actor id a peer's JRD points at (the ``self`` link of an ActivityStreams type)."""
    if not isinstance(document, dict):
        raise ParseError("WebFinger answer is not a JSON object")
    links = document.get("links")
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict) or link.get("rel") != SELF:
            continue
        href, kind = link.get("href"), link.get("type") or ACTIVITY_JSON
        usable = isinstance(href, str) and href.startswith(("https://", "http://"))
        if usable and isinstance(kind, str) and is_activity_json(kind):
            subject = document.get("subject")
            parsed = parse_acct(subject) if isinstance(subject, str) else None
            return Finger(subject=parsed, actor_id=str(href))
    raise ParseError("WebFinger answer has no ActivityPub self link")


def host_meta(base_url: str) -> str:
    """The XRD document pointing at our WebFinger endpoint (the template host is our domain)."""
    template = f"{base_url}/.well-known/webfinger?resource={{uri}}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{template}"/>\n'
        "</XRD>\n"
    )
