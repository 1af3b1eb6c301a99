"""Domain errors, one small tree. ``web/errors.py`` maps them to HTTP statuses in one place."""

from __future__ import annotations


class StarlingError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(StarlingError):
    """The thing does not exist, or the caller may not know that it does."""


class ValidationFailed(StarlingError):
    """An input field is invalid (HTTP 422); ``details`` per field, in Mastodon's shape."""

    def __init__(self, message: str, details: dict[str, list[dict[str, str]]] | None = None):
        super().__init__(message)
        self.details = details or {}


class BadRequest(StarlingError):
    """The request itself is malformed (HTTP 400)."""


class Unauthorized(StarlingError):
    """No valid credentials (HTTP 401)."""


class Forbidden(StarlingError):
    """Valid credentials that do not allow this (HTTP 403)."""


class Conflict(StarlingError):
    """The request clashes with the current state (HTTP 409)."""


class Unavailable(StarlingError):
    """A part of the service cannot answer right now (HTTP 503); the rest still works."""
