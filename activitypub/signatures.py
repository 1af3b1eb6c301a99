"""HTTP signatures: sign outgoing requests, read and verify incoming ones, and apply Mastodon's
policy on what a signature must cover.

Two schemes are read: draft-cavage-http-signatures-12 (``Signature`` or ``Authorization:
Signature``; what the fediverse sends) and RFC 9421 (``Signature-Input`` + ``Signature``).
Signing (draft-cavage rsa-sha256, as Mastodon sends it) lives in :mod:`activitypub.signing`, and
is re-exported here; parsing and base building live in :mod:`activitypub.sigbase`.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from activitypub.errors import SignatureError
from activitypub.sigbase import (
    InnerList,
    Item,
    Member,
    cavage_base,
    cavage_params,
    encode_base,
    has_body,
    lower_headers,
    parse_dictionary,
    rfc9421_base,
    split_url,
    utc,
)
from activitypub.signing import (
    HttpSigner,
    check_content_digest,
    check_digest,
    content_digest_header,
    digest_header,
    http_date,
    sign_headers,
    sign_headers_rfc9421,
    signature_header,
)

__all__ = [
    "HttpSigner",
    "RequestSignature",
    "check_content_digest",
    "check_digest",
    "check_request",
    "content_digest_header",
    "digest_header",
    "http_date",
    "read_signature",
    "sign_headers",
    "sign_headers_rfc9421",
    "signature_header",
    "verify_signature",
]

Scheme = Literal["draft-cavage", "rfc9421"]
PublicKey = rsa.RSAPublicKey | Ed25519PublicKey

# hs2019 says "the key decides"; with an RSA key Mastodon reads it as RSASSA-PKCS1-v1_5 SHA-256,
# which is what GoToSocial means when it sends algorithm="hs2019".
CAVAGE_ALGORITHMS = frozenset({"rsa-sha256", "hs2019"})
RFC9421_ALGORITHMS = frozenset({"rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519"})
_COMPONENT_NAME = re.compile(r"@?[a-z0-9!#$%&'*+.^_`|~-]+")
_TIMESTAMP = re.compile(r"[0-9]{1,12}(?:\.[0-9]+)?")


@dataclass(frozen=True)
class RequestSignature:
    """One signature read from a request, with the exact bytes that were signed."""

    scheme: Scheme
    key_id: str  # verbatim: "https://host/users/a#main-key", GoToSocial's ".../main-key", ...
    algorithm: str | None  # as declared, lower-cased; None when the sender did not say
    covered: tuple[str, ...]  # lower-cased header names / RFC 9421 component names
    base: bytes
    signature: bytes
    created: int | None = None
    expires: int | None = None
    # The signing string with (request-target) stripped of its query string: some Mastodon
    # versions and Fedify sign it that way, and Mastodon accepts both. None when no different.
    legacy_base: bytes | None = None


# --- reading --------------------------------------------------------------------------------------


def read_signature(method: str, url: str, headers: Mapping[str, str]) -> RequestSignature:
    """Find the request's signature (RFC 9421 first, then draft-cavage) and build its base.

    ``url`` is the full target URI as the sender addressed it (https://host/path?query).
    """
    lowered = lower_headers(headers)
    if "signature-input" in lowered:
        return _read_rfc9421(method, url, lowered)
    value = lowered.get("signature")
    if value is None:
        scheme, _, rest = lowered.get("authorization", "").partition(" ")
        if scheme.lower() != "signature":
            raise SignatureError("the request is not signed (no Signature header)")
        value = rest
    return _read_cavage(method, url, lowered, value)


def _read_cavage(method: str, url: str, headers: dict[str, str], value: str) -> RequestSignature:
    params = cavage_params(value)
    key_id, encoded = params.get("keyid"), params.get("signature")
    if not key_id or not encoded:
        raise SignatureError("the Signature header needs keyId and signature")
    algorithm = params["algorithm"].lower() if "algorithm" in params else None
    if algorithm is not None and algorithm not in CAVAGE_ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {algorithm!r}")
    covered = _cavage_covered(params, algorithm)
    parts = split_url(url)
    base = cavage_base(method, parts, headers, covered, params)
    legacy = None
    if "(request-target)" in covered and parts.query:
        legacy = encode_base(
            cavage_base(method, parts._replace(query=""), headers, covered, params)
        )
    return RequestSignature(
        scheme="draft-cavage",
        key_id=key_id,
        algorithm=algorithm,
        covered=covered,
        base=encode_base(base),
        signature=_b64decode(encoded, "signature"),
        created=_cavage_time(params, "created"),
        expires=_cavage_time(params, "expires"),
        legacy_base=legacy,
    )


def _cavage_covered(params: Mapping[str, str], algorithm: str | None) -> tuple[str, ...]:
    listed = params.get("headers")
    if listed is not None:
        names = tuple(listed.lower().split())
    else:
        # Appendix C.1 and Mastodon: "date" by default; with hs2019, draft-12 §2.1.6 and Mastodon
        # default to (created).
        names = ("(created)",) if algorithm == "hs2019" else ("date",)
    if not names:
        raise SignatureError("the signature covers no headers")
    if algorithm not in (None, "hs2019") and ("(created)" in names or "(expires)" in names):
        # draft-12 §2.3: (created) and (expires) are errors with rsa-* algorithms; Mastodon agrees.
        raise SignatureError(f"(created) and (expires) cannot be signed with {algorithm}")
    return names


def _cavage_time(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not _TIMESTAMP.fullmatch(value):
        raise SignatureError(f"the {name} parameter is not a timestamp: {value!r}")
    return int(value.split(".", 1)[0])


def _read_rfc9421(method: str, url: str, headers: dict[str, str]) -> RequestSignature:
    inputs = parse_dictionary(headers["signature-input"], "Signature-Input")
    values = parse_dictionary(headers.get("signature", ""), "Signature")
    first_error: SignatureError | None = None
    # Several signatures: the first one we can use wins; each is verified on its own merits.
    for label, (member, raw) in inputs.items():
        try:
            return _rfc9421_signature(method, url, headers, label, member, raw, values)
        except SignatureError as exc:
            first_error = first_error or exc
    raise first_error or SignatureError("Signature-Input names no signature")


def _rfc9421_signature(
    method: str,
    url: str,
    headers: dict[str, str],
    label: str,
    member: Member,
    raw: str,
    values: dict[str, tuple[Member, str]],
) -> RequestSignature:
    if not isinstance(member, InnerList):
        raise SignatureError(f"Signature-Input {label} is not a list of components")
    algorithm = _sf_str(member, "alg")
    if algorithm is not None and algorithm not in RFC9421_ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {algorithm!r}")
    key_id = _sf_str(member, "keyid")
    if not key_id:
        raise SignatureError(f"Signature-Input {label} has no keyid")
    covered = _components(member)
    signature, _ = values.get(label, (None, ""))
    if not isinstance(signature, Item) or not isinstance(signature.value, bytes):
        raise SignatureError(f"the Signature header has no byte sequence for {label}")
    base = rfc9421_base(method, url, split_url(url), headers, covered, raw)
    return RequestSignature(
        scheme="rfc9421",
        key_id=key_id,
        algorithm=algorithm,
        covered=covered,
        base=encode_base(base),
        signature=signature.value,
        created=_sf_int(member, "created"),
        expires=_sf_int(member, "expires"),
    )


def _sf_str(member: InnerList, name: str) -> str | None:
    value = member.params.get(name)
    # type() rather than isinstance(): a token is a str subclass, and must be quoted here.
    if value is None or type(value) is str:
        return value
    raise SignatureError(f"the {name} parameter of Signature-Input must be a string")


def _sf_int(member: InnerList, name: str) -> int | None:
    value = member.params.get(name)
    # type() rather than isinstance(): a bare ";created" is True, and bool is an int.
    if value is None or type(value) is int:
        return value
    raise SignatureError(f"the {name} parameter of Signature-Input must be an integer")


def _components(member: InnerList) -> tuple[str, ...]:
    names: list[str] = []
    for item in member.items:
        name = item.value
        if type(name) is not str or not _COMPONENT_NAME.fullmatch(name):
            raise SignatureError(f"bad component identifier {name!r}")
        if item.params:
            # ;sf ;key ;bs ;req ;tr ;name: legitimate, but nothing we sign or need.
            raise SignatureError(f"component parameters are not supported ({name!r})")
        if name == "@signature-params":
            raise SignatureError("@signature-params cannot be a covered component")
        if name in names:
            raise SignatureError(f"component {name!r} is covered twice")
        names.append(name)
    return tuple(names)


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as exc:  # binascii.Error, or non-ASCII text
        raise SignatureError(f"the {what} is not valid base64") from exc


# --- verifying ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _public_key(pem: str) -> PublicKey:
    """Parse a PEM public key once: parsing costs more than verifying."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SignatureError(f"unusable public key: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey | Ed25519PublicKey):
        raise SignatureError(f"unsupported public key type {type(key).__name__}")
    return key


def _pkcs1_sha256(key: rsa.RSAPublicKey, signature: bytes, data: bytes) -> None:
    key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())


def _pss_sha512(key: rsa.RSAPublicKey, signature: bytes, data: bytes) -> None:
    # RFC 9421 §3.3.1: MGF1 with SHA-512 and a 64-byte salt.
    key.verify(signature, data, padding.PSS(padding.MGF1(hashes.SHA512()), 64), hashes.SHA512())


def _ed25519(key: Ed25519PublicKey, signature: bytes, data: bytes) -> None:
    key.verify(signature, data)


_Use = tuple[Scheme, str | None]
_RSA_CHECKS: dict[_Use, tuple[Callable[[rsa.RSAPublicKey, bytes, bytes], None], ...]] = {
    ("draft-cavage", None): (_pkcs1_sha256,),
    ("draft-cavage", "rsa-sha256"): (_pkcs1_sha256,),
    ("draft-cavage", "hs2019"): (_pkcs1_sha256,),
    ("rfc9421", "rsa-v1_5-sha256"): (_pkcs1_sha256,),
    ("rfc9421", "rsa-pss-sha512"): (_pss_sha512,),
    # RFC 9421 without alg: the key decides; fediverse RSA keys sign PKCS#1 v1.5, RFC 9421's
    # own examples PSS.
    ("rfc9421", None): (_pkcs1_sha256, _pss_sha512),
}
_ED25519_CHECKS: dict[_Use, tuple[Callable[[Ed25519PublicKey, bytes, bytes], None], ...]] = {
    ("draft-cavage", None): (_ed25519,),
    ("draft-cavage", "hs2019"): (_ed25519,),
    ("rfc9421", "ed25519"): (_ed25519,),
    ("rfc9421", None): (_ed25519,),
}


def verify_signature(sig: RequestSignature, public_key_pem: str) -> None:
    """Raise SignatureError unless ``sig`` verifies with this PEM public key."""
    key = _public_key(public_key_pem)
    use = (sig.scheme, sig.algorithm)
    checks: list[Callable[[bytes, bytes], None]]
    if isinstance(key, rsa.RSAPublicKey):
        checks = [functools.partial(check, key) for check in _RSA_CHECKS.get(use, ())]
    else:
        checks = [functools.partial(check, key) for check in _ED25519_CHECKS.get(use, ())]
    if not checks:
        raise SignatureError(f"a {type(key).__name__} cannot check a {sig.algorithm} signature")
    bases = (sig.base,) if sig.legacy_base is None else (sig.base, sig.legacy_base)
    for base in bases:
        for check in checks:
            try:
                check(sig.signature, base)
            except (InvalidSignature, ValueError):
                continue
            return
    raise SignatureError(f"the signature does not verify with the key of {sig.key_id}")


# --- policy ---------------------------------------------------------------------------------------


def check_request(
    sig: RequestSignature,
    method: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    now: datetime | None = None,
    max_age: timedelta = timedelta(hours=12),
) -> None:
    """Apply Mastodon's rules: the signature covers the target, the host and a fresh date, and,
    for a request with a body, a digest that matches the body."""
    lowered = lower_headers(headers)
    _require_target_and_host(sig)
    _check_times(sig, lowered, utc(now).timestamp(), max_age.total_seconds())
    if has_body(method, body):
        _check_digests(sig, lowered, body or b"")


def _require_target_and_host(sig: RequestSignature) -> None:
    covered = set(sig.covered)
    if sig.scheme == "draft-cavage":
        target, host = "(request-target)" in covered, "host" in covered
    else:
        target = "@method" in covered and bool(
            covered & {"@target-uri", "@path", "@request-target"}
        )
        # @target-uri carries the authority too (Fedify signs "@method" "@target-uri" ...).
        host = bool(covered & {"@authority", "host", "@target-uri"})
    if not target:
        raise SignatureError("the signature does not cover the request target")
    if not host:
        raise SignatureError("the signature does not cover the Host")


def _check_times(sig: RequestSignature, headers: dict[str, str], now: float, age: float) -> None:
    stamps: list[tuple[str, float]] = []
    if "date" in sig.covered:
        stamps.append(("the Date header", _http_date_timestamp(headers.get("date"))))
    if sig.created is not None and (sig.scheme == "rfc9421" or "(created)" in sig.covered):
        stamps.append(("created", float(sig.created)))
    if not stamps:
        raise SignatureError("the signature covers neither the Date header nor (created)")
    for what, stamp in stamps:
        if stamp < now - age:
            raise SignatureError(f"{what} is too old (more than {age:.0f} s)")
        if stamp > now + age:
            raise SignatureError(f"{what} is too far in the future (more than {age:.0f} s)")
    if sig.expires is not None and sig.expires < now:
        raise SignatureError("the signature has expired")


def _http_date_timestamp(value: str | None) -> float:
    if not value:
        raise SignatureError("the signed Date header is missing")
    try:
        stamp = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError) as exc:
        raise SignatureError(f"unparseable Date header {value!r}") from exc
    return utc(stamp).timestamp()


def _check_digests(sig: RequestSignature, headers: dict[str, str], body: bytes) -> None:
    covered = set(sig.covered)
    if sig.scheme == "draft-cavage" and "digest" not in covered:
        raise SignatureError("a request with a body must sign its Digest header")
    if not covered & {"digest", "content-digest"}:
        raise SignatureError("a request with a body must sign its Content-Digest header")
    if "digest" in covered:
        check_digest(headers.get("digest", ""), body)
    if "content-digest" in covered:
        check_content_digest(headers.get("content-digest", ""), body)
