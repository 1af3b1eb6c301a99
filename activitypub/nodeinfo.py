"""NodeInfo 2.0 and 2.1 (nodeinfo.diaspora.software): what software we are and how much it holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VERSIONS = ("2.0", "2.1")
SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/{version}"


def content_type(version: str) -> str:
    return f'application/json; profile="{SCHEMA.format(version=version)}#"'


def discovery(base_url: str) -> dict[str, Any]:
    """``/.well-known/nodeinfo``: links to each document version we serve."""
    return {
        "links": [
            {"rel": SCHEMA.format(version=version), "href": f"{base_url}/nodeinfo/{version}"}
            for version in VERSIONS
        ]
    }


@dataclass(frozen=True)
class Usage:
    users_total: int
    active_month: int
    active_halfyear: int
    local_posts: int


def document(
    version: str,
    *,
    software_version: str,
    open_registrations: bool,
    usage: Usage,
    node_name: str,
    node_description: str,
) -> dict[str, Any]:
    """A NodeInfo document (2.1's optional ``software.repository`` is left out: we publish none)."""
    return {
        "version": version,
        "software": {"name": "starling", "version": software_version},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {
                "total": usage.users_total,
                "activeMonth": usage.active_month,
                "activeHalfyear": usage.active_halfyear,
            },
            "localPosts": usage.local_posts,
        },
        "metadata": {"nodeName": node_name, "nodeDescription": node_description},
    }
