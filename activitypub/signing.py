"""The signing side of HTTP signatures, and the body digests both sides use.

draft-cavage rsa-sha256 over "(request-target) host date [digest]", as Mastodon sends it, for every
delivery and fetch (:class:`HttpSigner` does it inside httpx); RFC 9421 rsa-v1_5-sha256 for tests
and double-knocking; ``Digest`` / ``Content-Digest`` made and checked. :mod:`activitypub.signatures`
re-exports all of it.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import functools
import hashlib
import hmac
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from datetime import datetime

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from activitypub.errors import SignatureError
from activitypub.sigbase import (
    Item,
    authority,
    cavage_base,
    encode_base,
    has_body,
    is_sf_key,
    lower_headers,
    parse_dictionary,
    rfc9421_base,
    sf_string,
    split_url,
    utc,
)

_HASHES: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda body: hashlib.sha256(body).digest(),
    "sha-512": lambda body: hashlib.sha512(body).digest(),
}


def digest_header(body: bytes) -> str:
    """``Digest: SHA-256=<base64>`` (RFC 3230), what draft-cavage peers check."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def content_digest_header(body: bytes) -> str:
    """``Content-Digest: sha-256=:<base64>:`` (RFC 9530), what RFC 9421 peers check."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def http_date(now: datetime | None = None) -> str:
    """RFC 7231 IMF-fixdate: ``Sun, 05 Jan 2014 21:31:40 GMT``."""
    return email.utils.format_datetime(utc(now), usegmt=True)


@functools.lru_cache(maxsize=256)
def _private_key(pem: str) -> rsa.RSAPrivateKey:
    """Parse an actor's PEM private key once (a ValueError for a bad one: our own configuration)."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("HTTP signatures are made with RSA keys")
    return key


def signature_header(
    method: str,
    url: str,
    headers: Mapping[str, str],
    covered: tuple[str, ...],
    *,
    key_id: str,
    private_key_pem: str,
) -> str:
    """A draft-cavage rsa-sha256 ``Signature`` value over ``covered`` (lower-case names)."""
    if '"' in key_id:
        raise ValueError(f"a keyId cannot hold a double quote: {key_id!r}")
    base = cavage_base(method, split_url(url), lower_headers(headers), covered, {})
    raw = _private_key(private_key_pem).sign(encode_base(base), padding.PKCS1v15(), hashes.SHA256())
    signature = base64.b64encode(raw).decode()
    return (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(covered)}",'
        f'signature="{signature}"'
    )


def sign_headers(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    key_id: str,
    private_key_pem: str,
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers to add so Mastodon accepts the request: Host, Date, Digest (with a body) and a
    draft-cavage rsa-sha256 Signature over "(request-target) host date [digest]".

    ``headers`` are the request's own; every value signed here is computed here.
    """
    added = {"Host": authority(split_url(url)), "Date": http_date(now)}
    covered: tuple[str, ...] = ("(request-target)", "host", "date")
    if has_body(method, body):
        added["Digest"] = digest_header(body or b"")
        covered += ("digest",)
    added["Signature"] = signature_header(
        method, url, added, covered, key_id=key_id, private_key_pem=private_key_pem
    )
    return added


def sign_headers_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    key_id: str,
    private_key_pem: str,
    now: datetime | None = None,
    label: str = "sig1",
) -> dict[str, str]:
    """RFC 9421 rsa-v1_5-sha256 over "@method" "@target-uri" "@authority" ["content-digest"]
    "date": returns Host, Date, Content-Digest (with a body), Signature-Input and Signature."""
    if not is_sf_key(label):
        raise ValueError(f"not a structured-field key: {label!r}")
    moment = utc(now)
    parts = split_url(url)
    added = {"Host": authority(parts), "Date": http_date(moment)}
    components = ["@method", "@target-uri", "@authority"]
    if has_body(method, body):
        added["Content-Digest"] = content_digest_header(body or b"")
        components.append("content-digest")
    components.append("date")
    params = (
        "(" + " ".join(f'"{name}"' for name in components) + ")"
        f';created={int(moment.timestamp())};keyid={sf_string(key_id)};alg="rsa-v1_5-sha256"'
    )
    base = rfc9421_base(method, url, parts, lower_headers(added), components, params)
    raw = _private_key(private_key_pem).sign(encode_base(base), padding.PKCS1v15(), hashes.SHA256())
    added["Signature-Input"] = f"{label}={params}"
    added["Signature"] = f"{label}=:{base64.b64encode(raw).decode()}:"
    return added


class HttpSigner(httpx.Auth):
    """Signs each request httpx sends (draft-cavage) with one actor's key."""

    requires_request_body = True

    def __init__(self, key_id: str, private_key_pem: str) -> None:
        self.key_id = key_id
        self.private_key_pem = private_key_pem

    def _sign(self, request: httpx.Request) -> dict[str, str]:
        return sign_headers(
            request.method,
            str(request.url),
            request.headers,
            request.content,
            key_id=self.key_id,
            private_key_pem=self.private_key_pem,
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(self._sign(request))
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        # An RSA signature takes the better part of a millisecond and cryptography releases the
        # GIL while it computes: off the event loop, the other requests go on meanwhile and a
        # second core can sign.
        request.headers.update(await asyncio.to_thread(self._sign, request))
        yield request


# --- checking digests -----------------------------------------------------------------------------


def check_digest(value: str, body: bytes) -> None:
    """Raise SignatureError unless a ``Digest`` header matches ``body``: every SHA-256 / SHA-512
    value in it must match, and there must be at least one."""
    _match("Digest", _digest_values(value), body)


def check_content_digest(value: str, body: bytes) -> None:
    """The same for an RFC 9530 ``Content-Digest`` header."""
    _match("Content-Digest", _content_digest_values(value), body)


def _digest_values(value: str) -> list[tuple[str, bytes]]:
    """RFC 3230 ``Digest: SHA-256=<b64>, SHA-512=<b64>``; unknown algorithms are left undecoded."""
    values: list[tuple[str, bytes]] = []
    for part in value.split(","):
        name, sep, encoded = part.strip().partition("=")
        if not sep:
            raise SignatureError(f"malformed Digest header {value!r}")
        name = name.lower()
        if name in _HASHES:
            values.append((name, _b64decode(encoded.strip())))
    return values


def _content_digest_values(value: str) -> list[tuple[str, bytes]]:
    """RFC 9530 ``Content-Digest: sha-256=:<b64>:`` as a structured dictionary."""
    values: list[tuple[str, bytes]] = []
    for name, (member, _) in parse_dictionary(value, "Content-Digest").items():
        if name not in _HASHES:
            continue
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            raise SignatureError(f"the Content-Digest {name} value is not a byte sequence")
        values.append((name, member.value))
    return values


def _match(field: str, values: list[tuple[str, bytes]], body: bytes) -> None:
    if not values:
        raise SignatureError(f"the {field} header has no SHA-256 or SHA-512 digest")
    for name, value in values:
        if not hmac.compare_digest(_HASHES[name](body), value):
            raise SignatureError(f"the {field} {name} does not match the body")


def _b64decode(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as exc:  # binascii.Error, or non-ASCII text
        raise SignatureError(f"a Digest value is not valid base64: {value!r}") from exc
