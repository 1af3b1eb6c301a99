"""What a person types into the search box, read leniently, and the Whoosh queries it means.

The syntax is Mastodon's: words (all must match), "quoted phrases", #hashtags, ``from:user``,
``from:user@host`` or ``from:me``, and a leading ``-`` to exclude. Nothing here can fail:
an unclosed quote runs to the end, operators such as AND or a stray parenthesis are plain
words (stop words and punctuation become nothing), an unknown ``prefix:`` is a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from whoosh import query as q

from search.analysis import name_analyzer, terms, text_analyzer

MAX_CLAUSES = 32  # a query longer than this is cut: it cannot match more usefully
_TAG_CHARS = re.compile(r"[^\w]", re.UNICODE)
_TEXT = text_analyzer()
_NAME = name_analyzer()


class Kind(StrEnum):
    WORD = "word"
    PHRASE = "phrase"
    TAG = "tag"


@dataclass(frozen=True)
class Clause:
    kind: Kind
    text: str
    negated: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    clauses: list[Clause] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)  # from: values, lower-cased, without "@"

    @property
    def empty(self) -> bool:
        return not self.clauses and not self.authors


def parse(raw: str) -> ParsedQuery:
    clauses: list[Clause] = []
    authors: list[str] = []
    position, text = 0, raw.strip()
    while position < len(text) and len(clauses) < MAX_CLAUSES:
        if text[position].isspace():
            position += 1
            continue
        negated = text[position] == "-" and position + 1 < len(text)
        start = position + 1 if negated else position
        if text[start] == '"':
            end = text.find('"', start + 1)
            end = len(text) if end < 0 else end
            clauses.append(Clause(Kind.PHRASE, text[start + 1 : end], negated))
            position = end + 1
            continue
        end = start
        while end < len(text) and not text[end].isspace():
            end += 1
        _read_word(text[start:end], negated, clauses, authors)
        position = end
    return ParsedQuery(clauses, authors)


def _read_word(word: str, negated: bool, clauses: list[Clause], authors: list[str]) -> None:
    prefix, _, value = word.partition(":")
    if prefix.lower() == "from" and value and not negated:
        authors.append(value.lstrip("@").lower())
    elif word.startswith("#") and (tag := tag_name(word)):
        clauses.append(Clause(Kind.TAG, tag, negated))
    else:
        clauses.append(Clause(Kind.WORD, word, negated))


def tag_name(raw: str) -> str:
    """A hashtag as we store it: without '#', lower-cased, letters, digits and '_' only."""
    return _TAG_CHARS.sub("", raw.lstrip("#")).lower()


def _clause_query(clause: Clause) -> q.Query | None:
    if clause.kind == Kind.TAG:
        return q.Term("tags", clause.text)
    words = terms(_TEXT, clause.text)
    if not words:
        return None
    if len(words) == 1:
        return q.Term("text", words[0])
    # Several terms from one word (CJK pairs, "e-mail") or a quoted phrase: adjacent, in order.
    return q.Phrase("text", words)


def post_query(parsed: ParsedQuery) -> q.Query | None:
    """The text part of a post search; None when it can match nothing. Everything, when only
    ``from:`` was given (the author filter then does the work, newest first)."""
    wanted, unwanted = [], []
    for clause in parsed.clauses:
        built = _clause_query(clause)
        if built is not None:
            (unwanted if clause.negated else wanted).append(built)
    if not wanted:
        if not parsed.authors:
            return None  # nothing to match: only stop words or punctuation were typed
        wanted = [q.Every()]
    matched = wanted[0] if len(wanted) == 1 else q.And(wanted)
    return q.AndNot(matched, q.Or(unwanted)) if unwanted else matched


def account_query(raw: str) -> q.Query | None:
    """Accounts whose username or display name start with what was typed; ``user@host`` also
    narrows by domain. An exact ``acct`` match ranks first."""
    text = raw.strip().lstrip("@")
    user, _, host = text.partition("@")
    names = terms(_NAME, user)
    if not names and not host:
        return None
    parts: list[q.Query] = [
        q.Or([q.Prefix("username", name), q.Prefix("display_name", name)]) for name in names
    ]
    parts += [q.Prefix("domain", name) for name in terms(_NAME, host)]
    if not parts:
        return None
    matched = parts[0] if len(parts) == 1 else q.And(parts)
    return q.Or([q.Term("acct", text.lower(), boost=20.0), matched])
