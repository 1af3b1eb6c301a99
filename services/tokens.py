"""Opaque secrets (tokens, codes, client secrets): made random, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)
