"""Object Integrity Proofs (FEP-8b32) with the ``eddsa-jcs-2022`` cryptosuite.

Fedify-based servers (Hollo, …) put a ``proof`` member in the activities they send: an Ed25519
signature over the JCS-canonical (RFC 8785) document and proof configuration, as the W3C "Data
Integrity EdDSA Cryptosuites v1.0" define it. The key is the actor's FEP-521a ``Multikey``
(``publicKeyMultibase``: base58-btc of the multicodec prefix 0xed 0x01 and the 32-byte key).

The HTTP signature stays the inbox's required check; a proof that verifies adds that the activity
itself is authentic, even when relayed. :func:`verify_proof` only answers True or False: a bad proof
must never make an activity fail, so the caller decides what to log. Which key to use (the
``verificationMethod`` of the proof, controlled by the activity's actor) is also the caller's job.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
from datetime import UTC, datetime
from typing import Any, TypeGuard

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

logger = logging.getLogger(__name__)

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_PURPOSE = "assertionMethod"

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_VALUES = {char: value for value, char in enumerate(_B58_ALPHABET)}
_BASE58BTC = "z"  # the multibase prefix of base58-btc
_ED25519_PUB = b"\xed\x01"  # multicodec ed25519-pub (0xed) as an unsigned varint
_ED25519_KEY_LENGTH = 32
_SIGNATURE_LENGTH = 64
# Base58 decoding is quadratic in the length; an Ed25519 signature takes at most 88 characters and
# the longest Multikey peers publish (RSA-4096) well under this.
_MAX_MULTIBASE_LENGTH = 2048


class ProofError(ValueError):
    """Malformed multibase or Multikey input, or a proof we cannot check."""


# --- Base58 (bitcoin alphabet) and multibase ------------------------------------------------


def b58encode(data: bytes) -> str:
    """Encode bytes in base58 with the bitcoin alphabet; each leading zero byte becomes a '1'."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_B58_ALPHABET[remainder])
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Decode base58 (bitcoin alphabet); raise :class:`ProofError` on any other character."""
    if not isinstance(text, str):
        raise ProofError("base58 input must be a string")
    number = 0
    for char in text:
        value = _B58_VALUES.get(char)
        if value is None:
            raise ProofError(f"not a base58-btc character: {char!r}")
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def _multibase_decode(text: object) -> bytes:
    """Decode a base58-btc multibase string ('z' + base58), the only base FEP-521a allows."""
    if not isinstance(text, str) or not text.startswith(_BASE58BTC):
        raise ProofError("not a base58-btc multibase string (no 'z' prefix)")
    if len(text) > _MAX_MULTIBASE_LENGTH:
        raise ProofError("multibase string too long")
    return b58decode(text[1:])


def multikey_to_ed25519(multibase: str) -> Ed25519PublicKey:
    """The Ed25519 public key in a Multikey ``publicKeyMultibase``; ProofError for other codecs."""
    raw = _multibase_decode(multibase)
    if not raw.startswith(_ED25519_PUB) or len(raw) != len(_ED25519_PUB) + _ED25519_KEY_LENGTH:
        raise ProofError("not an Ed25519 Multikey (multicodec 0xed01 and 32 bytes)")
    return Ed25519PublicKey.from_public_bytes(raw[len(_ED25519_PUB) :])


def ed25519_to_multikey(public_key: Ed25519PublicKey) -> str:
    """The ``publicKeyMultibase`` of an Ed25519 public key, as FEP-521a publishes it ("z6Mk…")."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _BASE58BTC + b58encode(_ED25519_PUB + raw)


# --- RFC 8785 JSON Canonicalization Scheme ----------------------------------------------------


def canonicalize(value: object) -> bytes:
    """The RFC 8785 (JCS) form of a JSON value, UTF-8 encoded.

    Members are sorted by their UTF-16 code units, numbers written as ECMAScript writes a double,
    strings escaped as ``JSON.stringify`` escapes them. Raises ValueError for what JCS cannot
    represent (NaN, Infinity, lone surrogates) and TypeError for non-JSON values.
    """
    parts: list[str] = []
    _write(value, parts)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("JCS strings must be valid Unicode (lone surrogate)") from error


def _write(value: object, parts: list[str]) -> None:
    """Append the canonical text of one JSON value to ``parts``."""
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(_string(value))
    elif isinstance(value, int | float):
        parts.append(_number(value))
    elif isinstance(value, dict):
        _write_object(value, parts)
    elif isinstance(value, list | tuple):
        _write_array(value, parts)
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")


def _write_object(value: dict[object, object], parts: list[str]) -> None:
    """Write an object with its members sorted by the UTF-16 code units of their names."""
    for name in value:
        if not isinstance(name, str):
            raise TypeError("JSON member names must be strings")
    parts.append("{")
    for index, name in enumerate(sorted(value, key=_utf16_units)):
        if index:
            parts.append(",")
        parts.append(_string(name))
        parts.append(":")
        _write(value[name], parts)
    parts.append("}")


def _write_array(value: list[object] | tuple[object, ...], parts: list[str]) -> None:
    """Write an array, keeping the order of its elements."""
    parts.append("[")
    for index, element in enumerate(value):
        if index:
            parts.append(",")
        _write(element, parts)
    parts.append("]")


def _utf16_units(name: str) -> bytes:
    """A sort key comparing names by UTF-16 code units (big-endian bytes compare the same way)."""
    try:
        return name.encode("utf-16-be")
    except UnicodeEncodeError as error:
        raise ValueError("JCS member names must be valid Unicode (lone surrogate)") from error


def _string(value: str) -> str:
    """A JSON string as JSON.stringify writes it: only '"', '\\' and C0 controls escaped.

    Python's encoder with ``ensure_ascii=False`` escapes exactly those, with the short forms
    \\b \\f \\n \\r \\t and lowercase \\u00xx for the other controls, as ECMAScript does.
    """
    return json.dumps(value, ensure_ascii=False)


def _number(value: int | float) -> str:
    """A number as ECMAScript's Number::toString writes the nearest double (RFC 8785 §3.2.2.3)."""
    try:
        number = float(value)
    except OverflowError as error:
        raise ValueError("JCS numbers must fit an IEEE 754 double") from error
    if not math.isfinite(number):
        raise ValueError("JCS cannot represent NaN or Infinity")
    if number == 0:
        return "0"  # -0 too
    digits, point = _shortest_digits(abs(number))
    return ("-" if number < 0 else "") + _ecmascript_notation(digits, point)


def _shortest_digits(number: float) -> tuple[str, int]:
    """The shortest round-tripping digits of a positive double and its decimal point position.

    ``repr`` gives the shortest digits that read back as the same double, the ones ECMAScript
    picks too; the result means ``0.<digits> × 10**point``.
    """
    mantissa, _, exponent = repr(number).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    significant = digits.lstrip("0")
    point -= len(digits) - len(significant)
    return significant.rstrip("0"), point


def _ecmascript_notation(digits: str, point: int) -> str:
    """Lay out digits as Number::toString does: plain from 1e-6 up to 1e21, exponent elsewhere."""
    count = len(digits)
    if count <= point <= 21:
        return digits + "0" * (point - count)
    if 0 < point <= 21:
        return f"{digits[:point]}.{digits[point:]}"
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    exponent = point - 1
    sign = "+" if exponent >= 0 else "-"
    mantissa = digits if count == 1 else f"{digits[0]}.{digits[1:]}"
    return f"{mantissa}e{sign}{abs(exponent)}"


# --- Data Integrity proofs (eddsa-jcs-2022) ----------------------------------------------------


def proof_of(document: dict[str, Any]) -> dict[str, Any] | None:
    """The first eddsa-jcs-2022 DataIntegrityProof in ``document["proof"]`` (object or array)."""
    if not isinstance(document, dict):
        return None
    proofs = document.get("proof")
    for candidate in proofs if isinstance(proofs, list) else [proofs]:
        if _is_eddsa_jcs_proof(candidate):
            return candidate
    return None


def _is_eddsa_jcs_proof(value: object) -> TypeGuard[dict[str, Any]]:
    """Whether a value is a DataIntegrityProof object naming the eddsa-jcs-2022 cryptosuite."""
    if not isinstance(value, dict) or value.get("cryptosuite") != CRYPTOSUITE:
        return False
    kind = value.get("type")
    # JSON-LD compaction may leave a one-element array where a string was written.
    return kind == PROOF_TYPE or (isinstance(kind, list) and PROOF_TYPE in kind)


def verify_proof(
    document: dict[str, Any], proof: dict[str, Any], public_key: Ed25519PublicKey
) -> bool:
    """Whether ``proof`` is a valid eddsa-jcs-2022 signature of ``document`` by ``public_key``.

    Never raises for a bad proof or document: anything malformed, expired or tampered is False.
    """
    try:
        signature = _check_proof(proof)
        candidates = _hash_candidates(document, _proof_options(proof))
    except (ValueError, TypeError, RecursionError) as error:
        logger.debug("integrity proof not checkable: %s", error)
        return False
    for hash_data in candidates:
        try:
            public_key.verify(signature, hash_data)
        except InvalidSignature:
            continue
        return True
    logger.debug("integrity proof signature does not verify")
    return False


def _check_proof(proof: object) -> bytes:
    """Check the proof's fixed members and dates; return the raw 64-byte signature."""
    if not _is_eddsa_jcs_proof(proof):
        raise ProofError("not an eddsa-jcs-2022 DataIntegrityProof")
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise ProofError("proofPurpose is not assertionMethod")  # FEP-8b32 requires it
    if "created" in proof:
        _parse_datetime(proof["created"])
    if "expires" in proof and _parse_datetime(proof["expires"]) <= datetime.now(UTC):
        raise ProofError("the proof has expired")
    signature = _multibase_decode(proof.get("proofValue"))
    if len(signature) != _SIGNATURE_LENGTH:
        raise ProofError("proofValue is not a 64-byte Ed25519 signature")
    return signature


def _parse_datetime(value: object) -> datetime:
    """Parse an XSD dateTime (ISO 8601); naive values are taken as UTC."""
    if not isinstance(value, str):
        raise ProofError("proof dates must be strings")
    parsed = datetime.fromisoformat(value)  # ValueError when malformed
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _proof_options(proof: dict[str, Any]) -> dict[str, Any]:
    """The proof without its ``proofValue``: what the signer hashed as the proof configuration."""
    return {name: value for name, value in proof.items() if name != "proofValue"}


def _hash_candidates(document: object, options: dict[str, Any]) -> list[bytes]:
    """The hash data the signer may have signed; one entry unless the proof lacks ``@context``.

    A proof carrying ``@context`` (W3C "Add Proof" step 2, current FEP-8b32 and Fedify) must name a
    prefix of the document's, and both are hashed with it. Without one the W3C algorithm hashes the
    proof options as they are (older Fedify and FEP-8b32 vectors), while current Fedify verifiers
    add the document's ``@context``: a proof without one is checked both ways.
    """
    if not isinstance(document, dict):
        raise ProofError("the document is not a JSON object")
    unsecured = _unsecured(document)
    if "@context" in options:
        if not _starts_with(document.get("@context"), options["@context"]):
            raise ProofError("the proof's @context does not start the document's")
        unsecured["@context"] = options["@context"]
        return [_hash_data(unsecured, options)]
    candidates = [_hash_data(unsecured, options)]
    if "@context" in unsecured:
        candidates.append(_hash_data(unsecured, {**options, "@context": unsecured["@context"]}))
    return candidates


def _hash_data(unsecured: dict[str, Any], config: dict[str, Any]) -> bytes:
    """SHA-256 of the canonical proof configuration, then of the canonical unsecured document."""
    return _sha256(canonicalize(config)) + _sha256(canonicalize(unsecured))


def _unsecured(document: dict[str, Any]) -> dict[str, Any]:
    """The document without ``proof`` and without a Linked Data Signature.

    FEP-8b32: an LD signature (``signature``, Mastodon's RsaSignature2017) is made after the proof,
    so it is removed before the proof is checked, as Fedify does.
    """
    return {
        name: value
        for name, value in document.items()
        if name != "proof" and not (name == "signature" and isinstance(value, dict))
    }


def _starts_with(document_context: object, proof_context: object) -> bool:
    """Whether the document's @context begins with every entry of the proof's, in order."""
    whole, prefix = _as_list(document_context), _as_list(proof_context)
    return whole[: len(prefix)] == prefix


def _as_list(value: object) -> list[object]:
    """A JSON-LD value as a list: absent is empty, a single value is a one-element list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sign_document(
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime,
) -> dict[str, Any]:
    """A copy of ``document`` with an eddsa-jcs-2022 proof by ``private_key`` added.

    The proof carries the document's ``@context`` (W3C "Add Proof" step 2, current FEP-8b32), which
    verifiers that copy the document's instead (Fedify) hash the same way. An existing proof is
    kept and the new one appended (a proof set).
    """
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
        "created": _format_datetime(created),
    }
    if "@context" in document:
        options = {"@context": copy.deepcopy(document["@context"]), **options}
    # Options built here, with the document's @context or without any, give one candidate.
    signature = private_key.sign(_hash_candidates(document, options)[0])
    proof = {**options, "proofValue": _BASE58BTC + b58encode(signature)}
    signed = copy.deepcopy(document)
    existing = signed.get("proof")
    if existing is None:
        signed["proof"] = proof
    else:
        signed["proof"] = [*_as_list(existing), proof]
    return signed


def _format_datetime(moment: datetime) -> str:
    """An aware datetime as an XSD dateTime in UTC with a 'Z', e.g. 2023-02-24T23:36:38Z."""
    if moment.tzinfo is None:
        raise ValueError("created must be timezone-aware")
    timespec = "microseconds" if moment.microsecond else "seconds"
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec=timespec) + "Z"
