"""Protocol errors, one small tree. ``web/errors.py`` maps them to statuses; workers map them to
retry or drop.

- :class:`SignatureError` (HTTP 401): no signature, a malformed one, or one that does not verify.
- :class:`ParseError` (HTTP 400): JSON that is not the ActivityStreams object we need.
- :class:`FetchError`: an outgoing request failed; ``retryable`` says whether trying again later
  may help (5xx, 429, time-outs, connection errors) or not (other 4xx, refused URLs).
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base of every error raised by ``activitypub/``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignatureError(ProtocolError):
    """An HTTP signature (or digest) is missing, malformed, stale or does not verify."""


class ParseError(ProtocolError):
    """A document is not the ActivityStreams object we expected."""


class FetchError(ProtocolError):
    """An outgoing HTTP request did not give us a usable answer."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class UnsafeURL(FetchError):
    """We refuse to talk to this URL: a private address, a forbidden scheme, a bad host."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class ResponseTooLarge(FetchError):
    """The peer's answer is bigger than we are willing to read."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)
