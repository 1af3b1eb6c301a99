"""ActivityStreams 2.0 constants: contexts, content types, the public collection."""

from __future__ import annotations

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v1"

# The public collection, and the short forms peers use for it in to/cc (JSON-LD compaction
# turns it into "as:Public"; some servers write "Public").
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})

ACTIVITY_JSON = "application/activity+json"
LD_JSON = "application/ld+json"
LD_JSON_PROFILE = f'application/ld+json; profile="{AS_CONTEXT}"'
JRD_JSON = "application/jrd+json"
# What we send when we fetch an object, as Mastodon does.
ACCEPT = f"{ACTIVITY_JSON}, {LD_JSON_PROFILE}"


def is_public(address: str) -> bool:
    return address in PUBLIC_ALIASES


def is_activity_json(content_type: str) -> bool:
    """Whether a Content-Type or Accept entry names ActivityStreams JSON."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == ACTIVITY_JSON:
        return True
    if media != LD_JSON:
        return False
    # application/ld+json counts only with the ActivityStreams profile.
    return AS_CONTEXT in content_type
