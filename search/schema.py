"""The two Whoosh indexes and the documents they hold.

Documents carry what a query matches on (text, tags, names) and what narrows results before
the database has its say (author, visibility, mentions, id for ranges and recency). Who may see
a post is decided afterwards from Postgres, so follows, blocks and opt-outs take effect at once
without touching the index.
"""

from __future__ import annotations

from dataclasses import dataclass

from whoosh import columns
from whoosh.fields import COLUMN, ID, KEYWORD, TEXT, Schema

from search.analysis import name_analyzer, text_analyzer

# Bump when a schema or an analyser changes: an index of another version is rebuilt.
SCHEMA_VERSION = 2

POSTS = "posts"
ACCOUNTS = "accounts"


def _order() -> COLUMN:
    return COLUMN(columns.NumericColumn("Q"))  # unsigned 64-bit


def post_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        # The snowflake id, for recency among equals: a column only (indexing it as a number
        # took more than half of the time of indexing a post).
        order=_order(),
        text=TEXT(analyzer=text_analyzer(), phrase=True),
        tags=KEYWORD(lowercase=True),
        author=ID,
        visibility=ID,
        mentions=KEYWORD,
    )


def account_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        order=_order(),
        acct=ID,  # lower-cased "user" or "user@host": exact matches
        username=TEXT(analyzer=name_analyzer()),
        domain=TEXT(analyzer=name_analyzer()),
        display_name=TEXT(analyzer=name_analyzer()),
        note=TEXT(analyzer=text_analyzer()),
    )


SCHEMAS = {POSTS: post_schema, ACCOUNTS: account_schema}


@dataclass(frozen=True)
class PostDoc:
    id: int
    text: str  # plain text: content warning and body
    tags: list[str]
    author_id: int
    visibility: str
    mention_ids: list[int]

    def fields(self) -> dict[str, object]:
        return {
            "id": str(self.id),
            "order": self.id,
            "text": self.text,
            "tags": " ".join(self.tags),
            "author": str(self.author_id),
            "visibility": self.visibility,
            "mentions": " ".join(str(m) for m in self.mention_ids),
        }


@dataclass(frozen=True)
class AccountDoc:
    id: int
    acct: str
    username: str
    domain: str
    display_name: str
    note: str  # plain text

    def fields(self) -> dict[str, object]:
        return {
            "id": str(self.id),
            "order": self.id,
            "acct": self.acct.lower(),
            "username": self.username,
            "domain": self.domain,
            "display_name": self.display_name,
            "note": self.note,
        }


@dataclass(frozen=True)
class Changes:
    """One batch for the writer: documents to (re)write and ids to remove, per index."""

    posts: list[PostDoc]
    accounts: list[AccountDoc]
    removed_posts: list[int]
    removed_accounts: list[int]

    def __len__(self) -> int:
        return (
            len(self.posts)
            + len(self.accounts)
            + len(self.removed_posts)
            + len(self.removed_accounts)
        )
