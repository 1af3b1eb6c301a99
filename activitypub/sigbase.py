"""Building blocks of HTTP signatures: header access, the draft-cavage signing string, the RFC 9421
signature base and the subset of RFC 8941 structured fields those headers use.

Pure functions over (method, URL, headers); :mod:`activitypub.signatures` holds the policy, the keys
and the public API. Everything here raises :class:`SignatureError` on bad input.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import NamedTuple, NoReturn
from urllib.parse import SplitResult, urlsplit

from activitypub.errors import SignatureError

DEFAULT_PORTS = {"http": 80, "https": 443}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

# --- headers and URLs -----------------------------------------------------------------------------

_FOLD = re.compile(r"[ \t]*\r?\n[ \t]*")


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header values by lower-cased name, trimmed, repeated fields joined with ", " (both specs say
    so); works for dicts in any case, httpx.Headers and werkzeug Headers (whose items() repeats)."""
    out: dict[str, str] = {}
    for name, raw in headers.items():
        key = name.lower()
        # An obsolete line fold counts as one space (draft-cavage §2.3, RFC 9421 §2.1).
        value = _FOLD.sub(" ", raw).strip(" \t") if "\n" in raw else raw.strip(" \t")
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def split_url(url: str) -> SplitResult:
    """The target URI in parts; a port that is not a number is a malformed request."""
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise SignatureError(f"bad target URI {url!r}") from exc
    return parts


def authority(parts: SplitResult) -> str:
    """Lower-cased host, with the port only when not the scheme's default (RFC 9421 §2.2.3)."""
    host = parts.hostname
    if not host:
        raise SignatureError("the target URI has no host")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or port == DEFAULT_PORTS.get(parts.scheme.lower()):
        return host
    return f"{host}:{port}"


def path_and_query(parts: SplitResult) -> str:
    """The origin-form request target: path, and ``?query`` when there is one."""
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def has_body(method: str, body: bytes | None) -> bool:
    """Whether the request has a body to digest: any bytes, or a POST/PUT/PATCH even if empty."""
    return bool(body) or method.upper() in _BODY_METHODS


def utc(moment: datetime | None) -> datetime:
    """``moment`` in UTC (naive means UTC); now when None."""
    if moment is None:
        return datetime.now(UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def encode_base(text: str) -> bytes:
    """Servers decode header bytes as Latin-1; encoding back that way gives the bytes sent."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


# --- draft-cavage-http-signatures-12 --------------------------------------------------------------

# name = "quoted \"string\"" | token, then a comma or the end; the quoted part unrolled (linear).
_CAVAGE_PARAM = re.compile(
    r"[ \t]*([A-Za-z][A-Za-z0-9_-]*)[ \t]*=[ \t]*"
    r'(?:"([^"\\]*(?:\\.[^"\\]*)*)"|([^\s",]+))'
    r"[ \t]*(?:,|\Z)"
)
_ESCAPE = re.compile(r"\\(.)")
_BLANK = re.compile(r"[ \t,]*\Z")


def cavage_params(value: str) -> dict[str, str]:
    """The parameters of a draft-cavage ``Signature`` header, names lower-cased.

    Values are quoted strings or bare tokens: the draft's own examples write
    ``created=1402170695, expires=1402170699`` unquoted and with a space after the comma.
    """
    params: dict[str, str] = {}
    pos = 0
    while not _BLANK.match(value, pos):
        match = _CAVAGE_PARAM.match(value, pos)
        if match is None:
            raise SignatureError(f"malformed Signature header near offset {pos}")
        name = match.group(1).lower()
        if name in params:
            raise SignatureError(f"the Signature header repeats {name}")
        quoted = match.group(2)
        if quoted is None:
            params[name] = match.group(3)
        else:
            params[name] = _ESCAPE.sub(r"\1", quoted) if "\\" in quoted else quoted
        pos = match.end()
    return params


def cavage_base(
    method: str,
    parts: SplitResult,
    headers: Mapping[str, str],
    covered: Sequence[str],
    params: Mapping[str, str],
) -> str:
    """The signing string: one ``name: value`` line per covered header, joined by newlines."""
    return "\n".join(
        f"{name}: {_cavage_value(name, method, parts, headers, params)}" for name in covered
    )


def _cavage_value(
    name: str,
    method: str,
    parts: SplitResult,
    headers: Mapping[str, str],
    params: Mapping[str, str],
) -> str:
    if name == "(request-target)":
        return f"{method.lower()} {path_and_query(parts)}"
    if name in ("(created)", "(expires)"):
        value = params.get(name[1:-1])
        if value is None:
            raise SignatureError(f"{name} is signed but the {name[1:-1]} parameter is missing")
        return value
    if name.startswith("("):
        raise SignatureError(f"unsupported pseudo-header {name}")
    value = headers.get(name)
    if value is not None:
        return value
    if name == "host":
        # Some front ends hand the app no Host header (HTTP/2 :authority): the URI carries it.
        return authority(parts)
    raise SignatureError(f"the signed header {name} is missing")


# --- RFC 9421 HTTP Message Signatures -------------------------------------------------------------

_DERIVED: dict[str, Callable[[str, str, SplitResult], str]] = {
    "@method": lambda method, url, parts: method.upper(),
    "@target-uri": lambda method, url, parts: url,
    "@authority": lambda method, url, parts: authority(parts),
    "@scheme": lambda method, url, parts: parts.scheme.lower(),
    "@request-target": lambda method, url, parts: path_and_query(parts),
    "@path": lambda method, url, parts: parts.path or "/",
    "@query": lambda method, url, parts: f"?{parts.query}",
}


def rfc9421_base(
    method: str,
    url: str,
    parts: SplitResult,
    headers: Mapping[str, str],
    components: Sequence[str],
    signature_params: str,
) -> str:
    """The signature base of RFC 9421 §2.5: one line per component, then ``@signature-params``
    with the inner list and parameters exactly as they appear in Signature-Input."""
    lines = [f'"{name}": {_component(name, method, url, parts, headers)}' for name in components]
    lines.append(f'"@signature-params": {signature_params}')
    return "\n".join(lines)


def _component(
    name: str, method: str, url: str, parts: SplitResult, headers: Mapping[str, str]
) -> str:
    if name.startswith("@"):
        derive = _DERIVED.get(name)
        if derive is None:
            raise SignatureError(f"unsupported derived component {name}")
        return derive(method, url, parts)
    value = headers.get(name)
    if value is None:
        raise SignatureError(f"the signed header {name} is missing")
    return value


# --- RFC 8941 structured fields (dictionaries, inner lists, parameters) ---------------------------


class Token(str):
    """An RFC 8941 token (unquoted), told apart from a string."""

    __slots__ = ()


BareItem = int | float | str | bytes | bool


class Item(NamedTuple):
    value: BareItem
    params: dict[str, BareItem]


class InnerList(NamedTuple):
    items: list[Item]
    params: dict[str, BareItem]


Member = Item | InnerList

_KEY = re.compile(r"[a-z*][a-z0-9_.*-]*")
_STRING = re.compile(r'"([\x20\x21\x23-\x5b\x5d-\x7e]*(?:\\["\\][\x20\x21\x23-\x5b\x5d-\x7e]*)*)"')
_BYTES = re.compile(r":([A-Za-z0-9+/]*={0,2}):")
_NUMBER = re.compile(r"-?([0-9]{1,15})(\.[0-9]{1,3})?")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+.^_`|~0-9A-Za-z:/-]*")
_BOOLEAN = re.compile(r"\?([01])")
_SF_STRING_OK = re.compile(r"[\x20-\x7e]*\Z")


def parse_dictionary(text: str, field: str) -> dict[str, tuple[Member, str]]:
    """An RFC 8941 dictionary: each member with the exact text of its value, which RFC 9421's
    @signature-params line repeats verbatim."""
    return _SFParser(text, field).dictionary()


def sf_string(value: str) -> str:
    """Serialise a string as an RFC 8941 sf-string (printable ASCII only)."""
    if not _SF_STRING_OK.match(value):
        raise ValueError(f"not serialisable as a structured-field string: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def is_sf_key(value: str) -> bool:
    return _KEY.fullmatch(value) is not None


class _SFParser:
    """A cursor over one field value; each method parses one production of RFC 8941 §4.2."""

    def __init__(self, text: str, field: str) -> None:
        self.text = text
        self.field = field
        self.pos = 0

    def fail(self, what: str) -> NoReturn:
        raise SignatureError(f"{self.field} is not a valid structured field: {what} at {self.pos}")

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def skip(self, chars: str) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1

    def take(self, pattern: re.Pattern[str], what: str) -> re.Match[str]:
        match = pattern.match(self.text, self.pos)
        if match is None:
            self.fail(f"expected {what}")
        self.pos = match.end()
        return match

    def dictionary(self) -> dict[str, tuple[Member, str]]:
        members: dict[str, tuple[Member, str]] = {}
        self.skip(" ")
        while self.pos < len(self.text):
            key = self.take(_KEY, "a key").group()
            start = self.pos
            member: Member
            if self.peek() == "=":
                self.pos += 1
                start = self.pos
                member = self.inner_list() if self.peek() == "(" else self.item()
            else:
                member = Item(True, self.params())
            members[key] = (member, self.text[start : self.pos])
            self.skip(" \t")
            if self.pos >= len(self.text):
                break
            if self.peek() != ",":
                self.fail("expected ','")
            self.pos += 1
            self.skip(" \t")
            if self.pos >= len(self.text):
                self.fail("trailing comma")
        return members

    def inner_list(self) -> InnerList:
        self.pos += 1  # the "("
        items: list[Item] = []
        while True:
            self.skip(" ")
            if self.pos >= len(self.text):
                self.fail("unterminated inner list")
            if self.peek() == ")":
                self.pos += 1
                return InnerList(items, self.params())
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                self.fail("expected ' ' or ')' in inner list")

    def item(self) -> Item:
        value = self.bare()
        return Item(value, self.params())

    def params(self) -> dict[str, BareItem]:
        params: dict[str, BareItem] = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip(" ")
            key = self.take(_KEY, "a parameter name").group()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare()
            params[key] = value
        return params

    def bare(self) -> BareItem:
        first = self.peek()
        if first == '"':
            raw = self.take(_STRING, "a string").group(1)
            return _ESCAPE.sub(r"\1", raw) if "\\" in raw else raw
        if first == ":":
            return self.byte_sequence()
        if first == "?":
            return self.take(_BOOLEAN, "a boolean").group(1) == "1"
        if first and first in "-0123456789":
            match = self.take(_NUMBER, "a number")
            if match.group(2) is None:
                return int(match.group())
            if len(match.group(1)) > 12:
                self.fail("decimal too long")
            return float(match.group())
        if first and ((first.isascii() and first.isalpha()) or first == "*"):
            return Token(self.take(_TOKEN, "a token").group())
        self.fail("expected an item")

    def byte_sequence(self) -> bytes:
        encoded = self.take(_BYTES, "a byte sequence").group(1)
        # RFC 8941 §4.2.7: parsers should accept a missing "=" padding.
        encoded += "=" * (-len(encoded) % 4)
        try:
            return base64.b64decode(encoded, validate=True)
        except binascii.Error:
            self.fail("bad base64 in byte sequence")
