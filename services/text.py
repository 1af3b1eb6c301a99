"""Post text: normalise, measure, find mentions, hashtags and links, render sanitised HTML.

Mastodon's rules where clients notice them: a post is counted in Unicode code points after NFC,
links as written; ``@user`` and ``@user@host`` mention, ``#tag`` tags, http(s) URLs link. The
HTML is built from escaped text and then passed through nh3 with a small allow-list, so
nothing a user types can become markup.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import nh3

MAX_CHARS = 280

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_MENTION = re.compile(
    r"(?<![\w/@.])@([a-z0-9_]+(?:[a-z0-9_.\-]+[a-z0-9_]+)?)(?:@([a-z0-9][a-z0-9.\-]*[a-z0-9](?::\d+)?))?",
    re.IGNORECASE,
)
_HASHTAG = re.compile(r"(?<![\w/&#])#(\w{0,99}[^\W\d_]\w{0,99})")
_TRAILING = ".,;:!?'\""

ALLOWED_TAGS = {"p", "br", "a", "span"}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "class", "target", "translate"},
    "span": {"class", "translate"},
}


@dataclass(frozen=True)
class MentionRef:
    username: str
    domain: str | None  # None: no host written

    @property
    def key(self) -> tuple[str, str | None]:
        return self.username.lower(), self.domain.lower() if self.domain else None


@dataclass(frozen=True)
class Token:
    kind: str  # "text" | "url" | "mention" | "tag"
    text: str
    value: str | MentionRef | None = None


@dataclass(frozen=True)
class ParsedText:
    text: str
    tokens: tuple[Token, ...]

    @property
    def mentions(self) -> list[MentionRef]:
        refs = [t.value for t in self.tokens if t.kind == "mention"]
        return list({ref.key: ref for ref in refs if isinstance(ref, MentionRef)}.values())

    @property
    def tags(self) -> list[str]:
        names = [str(t.value) for t in self.tokens if t.kind == "tag"]
        return list(dict.fromkeys(names))


def normalise(text: str) -> str:
    """NFC, Unix newlines, no trailing white space."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def length(text: str) -> int:
    """Characters as Mastodon clients count them here: code points after NFC, links as written."""
    return len(normalise(text))


def _trim_url(url: str) -> str:
    while url and url[-1] in _TRAILING:
        url = url[:-1]
    # A closing parenthesis belongs to the URL only when the URL opened one.
    while url.endswith(")") and url.count("(") < url.count(")"):
        url = url[:-1]
    return url


def _plain_tokens(chunk: str) -> list[Token]:
    """Mentions and hashtags inside text that holds no URL."""
    spans: list[tuple[int, int, Token]] = []
    for match in _MENTION.finditer(chunk):
        ref = MentionRef(match.group(1), match.group(2))
        spans.append((match.start(), match.end(), Token("mention", match.group(0), ref)))
    for match in _HASHTAG.finditer(chunk):
        name = match.group(1)
        spans.append((match.start(), match.end(), Token("tag", match.group(0), name.lower())))
    tokens, position = [], 0
    for start, end, token in sorted(spans, key=lambda span: span[0]):
        if start < position:
            continue  # overlapping match (e.g. a tag inside a mention's host): first one wins
        if start > position:
            tokens.append(Token("text", chunk[position:start]))
        tokens.append(token)
        position = end
    if position < len(chunk):
        tokens.append(Token("text", chunk[position:]))
    return tokens


def parse(text: str) -> ParsedText:
    text = normalise(text)
    tokens: list[Token] = []
    position = 0
    for match in _URL.finditer(text):
        url = _trim_url(match.group(0))
        if not url or len(url) <= len("https://"):
            continue
        tokens.extend(_plain_tokens(text[position : match.start()]))
        tokens.append(Token("url", url, url))
        position = match.start() + len(url)
    tokens.extend(_plain_tokens(text[position:]))
    return ParsedText(text=text, tokens=tuple(tokens))


MentionLinker = Callable[[MentionRef], str | None]


def _token_html(token: Token, mention_url: MentionLinker, tag_url: Callable[[str], str]) -> str:
    escaped = html.escape(token.text)
    if token.kind == "url":
        href = html.escape(token.text, quote=True)
        return f'<a href="{href}" target="_blank" translate="no">{escaped}</a>'
    if token.kind == "tag":
        name = html.escape(token.text[1:])
        href = html.escape(tag_url(str(token.value)), quote=True)
        return f'<a href="{href}" class="mention hashtag">#<span>{name}</span></a>'
    if token.kind == "mention" and isinstance(token.value, MentionRef):
        href_raw = mention_url(token.value)
        if href_raw is None:
            return escaped  # nobody by that name: leave it as text
        href = html.escape(href_raw, quote=True)
        name = html.escape(token.value.username)
        return (
            f'<span class="h-card" translate="no"><a href="{href}" class="u-url mention">'
            f"@<span>{name}</span></a></span>"
        )
    return escaped.replace("\n", "<br>")


def render_html(
    parsed: ParsedText, mention_url: MentionLinker, tag_url: Callable[[str], str]
) -> str:
    """Paragraphs on blank lines, <br> on single newlines, links for URLs, mentions and tags."""
    body = "".join(_token_html(token, mention_url, tag_url) for token in parsed.tokens)
    paragraphs = [p for p in re.split(r"(?:<br>){2,}", body) if p]
    return sanitise("".join(f"<p>{p}</p>" for p in paragraphs))


def sanitise(markup: str) -> str:
    """nh3 with a small allow-list: no scripts, styles, event handlers or foreign schemes."""
    return nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="nofollow noopener noreferrer",
    )


# --- remote HTML --------------------------------------------------------------------------

# What Mastodon's sanitizer keeps of remote posts and bios: text formatting, links and lists,
# and only the microformat classes clients style (mentions, hashtags, hidden URL parts).
REMOTE_TAGS = ALLOWED_TAGS | {
    "del", "pre", "blockquote", "code", "b", "strong", "u", "i", "em", "ul", "ol", "li",
}  # fmt: skip
REMOTE_ATTRIBUTES = {
    "a": {"href", "translate"},
    "span": {"translate"},
    "ol": {"start", "reversed"},
    "li": {"value"},
}
REMOTE_CLASSES = {
    "a": {"mention", "hashtag", "u-url", "status-link", "unhandled-link"},
    "span": {"h-card", "invisible", "ellipsis", "mention", "hashtag"},
}
REMOTE_SCHEMES = {"http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp",
                  "magnet", "gemini"}  # fmt: skip


def without_nul(value: str) -> str:
    """PostgreSQL text cannot hold NUL: a peer's strings lose it before we store them."""
    return value.replace("\x00", "")


def sanitise_remote(markup: str) -> str:
    """A peer's HTML (a post, a bio) made safe to store and show: no scripts, styles, event
    handlers, images or foreign schemes; links open safely."""
    return nh3.clean(
        without_nul(markup),
        tags=REMOTE_TAGS,
        clean_content_tags={"script", "style"},
        attributes=REMOTE_ATTRIBUTES,
        allowed_classes=REMOTE_CLASSES,
        url_schemes=REMOTE_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )


def plain(markup: str) -> str:
    """The text of some HTML: paragraphs and line breaks become newlines, tags go."""
    spaced = re.sub(r"(?i)<br\s*/?>", "\n", without_nul(markup))
    spaced = re.sub(r"(?i)</p\s*>\s*<p[^>]*>", "\n\n", spaced)
    return html.unescape(nh3.clean(spaced, tags=set(), clean_content_tags={"script", "style"}))
