"""Keeping the search index in step with Postgres (DESIGN.md "Search").

Triggers leave a ``search_changes`` row for every post or account whose document is stale
(migration 0006). ``index_pending`` reads a batch of rows, loads the current state of what
they name, writes the batch into the index (under the one writer lock, in a thread), and only
then deletes the rows: a crash at any point leaves rows that the next run applies again.
``rebuild`` makes a whole new index from Postgres while the old one keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from tortoise import BaseDBAsyncClient, connections
from tortoise.transactions import in_transaction

from instance.config import Settings
from search import store, writer
from search.schema import AccountDoc, Changes, PostDoc
from search.store import IndexBusy, IndexMissing
from services.text import plain

log = logging.getLogger(__name__)

__all__ = ["IndexBusy", "IndexMissing", "index_pending", "rebuild"]

BATCH = 500  # changes per index commit
REBUILD_BATCH = 2000

_CHANGES_SQL = "SELECT id, kind, target_id FROM search_changes ORDER BY id LIMIT $1"
_FORGET_SQL = "DELETE FROM search_changes WHERE id = ANY($1::bigint[])"

# Original posts only (boosts carry no text); a deleted post has no document.
_POSTS_SQL = """
SELECT p.id, p.author_id, p.html, p.spoiler_text, p.visibility,
       ARRAY(SELECT m.account_id FROM mentions m WHERE m.post_id = p.id) AS mention_ids,
       ARRAY(SELECT t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
             WHERE pt.posts_id = p.id) AS tags
FROM posts p
WHERE p.deleted_at IS NULL AND p.boost_of_id IS NULL AND {where}
ORDER BY p.id LIMIT $2
"""
# The instance actor (an Application) is nobody to find; suspended accounts are gone.
_ACCOUNTS_SQL = """
SELECT id, acct, username, domain, display_name, note FROM accounts
WHERE suspended_at IS NULL AND actor_type <> 'Application' AND {where}
ORDER BY id LIMIT $2
"""
_BY_IDS = "id = ANY($1::bigint[])"
_AFTER = "id > $1"


async def _rows(
    sql: str, *args: object, db: BaseDBAsyncClient | None = None
) -> list[dict[str, Any]]:
    _, rows = await (db or connections.get("default")).execute_query(sql, list(args))
    return [dict(row) for row in rows]


def _post_doc(row: dict[str, Any]) -> PostDoc:
    body = plain(row["html"])
    return PostDoc(
        id=row["id"],
        text=f"{row['spoiler_text']}\n{body}" if row["spoiler_text"] else body,
        tags=list(row["tags"]),
        author_id=row["author_id"],
        visibility=row["visibility"],
        mention_ids=list(row["mention_ids"]),
    )


def _account_doc(row: dict[str, Any]) -> AccountDoc:
    return AccountDoc(
        id=row["id"],
        acct=row["acct"],
        username=row["username"],
        domain=row["domain"] or "",
        display_name=row["display_name"],
        note=plain(row["note"]),
    )


async def _changes_for(post_ids: list[int], account_ids: list[int]) -> Changes:
    """Documents for what still exists; the rest is removed from the index."""
    posts = [
        _post_doc(row)
        for row in await _rows(_POSTS_SQL.format(where="p." + _BY_IDS), post_ids, len(post_ids))
    ]
    accounts = [
        _account_doc(row)
        for row in await _rows(_ACCOUNTS_SQL.format(where=_BY_IDS), account_ids, len(account_ids))
    ]
    present_posts, present_accounts = {d.id for d in posts}, {d.id for d in accounts}
    return Changes(
        posts=posts,
        accounts=accounts,
        removed_posts=[i for i in post_ids if i not in present_posts],
        removed_accounts=[i for i in account_ids if i not in present_accounts],
    )


async def index_pending(settings: Settings, *, batch: int = BATCH) -> int:
    """Apply every waiting change to the index; returns how many rows were applied.

    Raises ``store.IndexMissing`` when there is no index to apply them to (rebuild first) and
    ``store.IndexBusy`` when another process holds the writer lock (its run applies them).
    """
    place = store.location(settings.storage.data_dir)
    applied = 0
    while rows := await _rows(_CHANGES_SQL, batch):
        post_ids = list(dict.fromkeys(r["target_id"] for r in rows if r["kind"] == "post"))
        account_ids = list(dict.fromkeys(r["target_id"] for r in rows if r["kind"] == "account"))
        changes = await _changes_for(post_ids, account_ids)
        await asyncio.to_thread(writer.apply, place, changes)
        await _forget([r["id"] for r in rows])  # only now: a crash before this replays them
        applied += len(rows)
    return applied


async def _forget(change_ids: list[int]) -> None:
    await connections.get("default").execute_query(_FORGET_SQL, [change_ids])


# --- rebuild ----------------------------------------------------------------------------


async def _all(
    db: BaseDBAsyncClient, sql: str, make: Callable[[dict[str, Any]], Any]
) -> AsyncIterator[list[Any]]:
    """Every row of ``sql`` (its ``where`` taking ids after $1) in id order, a batch at a
    time: keyset paging, no OFFSET scans."""
    after = 0
    while rows := await _rows(sql, after, REBUILD_BATCH, db=db):
        after = rows[-1]["id"]
        yield [make(row) for row in rows]


async def total_documents() -> int:
    rows = await _rows(
        "SELECT (SELECT count(*) FROM posts WHERE deleted_at IS NULL AND boost_of_id IS NULL)"
        " + (SELECT count(*) FROM accounts WHERE suspended_at IS NULL"
        " AND actor_type <> 'Application') AS n"
    )
    return int(rows[0]["n"])


async def rebuild(
    settings: Settings,
    progress: Callable[[int], None] | None = None,
    *,
    only_if_missing: bool = False,
) -> int:
    """A new index of everything in Postgres, made current when complete; returns how many
    documents it holds. Searches keep using the old index until then; changes made meanwhile
    are applied by the indexer afterwards. ``only_if_missing``: unless another process built
    one while we waited for the lock (two workers starting on an empty data directory)."""
    place = store.location(settings.storage.data_dir)
    built = writer.Rebuild(place, only_if_missing=only_if_missing)
    await asyncio.to_thread(built.__enter__)
    if built.skipped:
        return 0
    try:
        count, replayed = await _fill(built, progress)
    except BaseException as exc:
        await asyncio.to_thread(built.__exit__, type(exc), exc, None)
        raise
    await asyncio.to_thread(built.__exit__, None, None, None)
    # The new index holds everything those changes made: they need not be applied again.
    for start in range(0, len(replayed), REBUILD_BATCH):
        await _forget(replayed[start : start + REBUILD_BATCH])
    log.info("search index rebuilt", extra={"documents": count})
    return count


async def _fill(
    built: writer.Rebuild, progress: Callable[[int], None] | None
) -> tuple[int, list[int]]:
    """Every document, read in one REPEATABLE READ snapshot, so that the waiting changes this
    snapshot sees are exactly those whose effect the new index holds; answers the count of
    documents and those changes' ids (changes committed later are not seen, and stay)."""
    count = 0
    async with in_transaction() as db:
        await db.execute_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        seen = [r["id"] for r in await _rows("SELECT id FROM search_changes", db=db)]
        sources = [
            (_ACCOUNTS_SQL.format(where=_AFTER), _account_doc, built.add_accounts),
            (_POSTS_SQL.format(where="p." + _AFTER), _post_doc, built.add_posts),
        ]
        for sql, make, add in sources:
            async for docs in _all(db, sql, make):
                await asyncio.to_thread(add, docs)
                count += len(docs)
                if progress:
                    progress(len(docs))
    return count, seen


def index_problem(settings: Settings) -> str | None:
    """Why the index must be rebuilt before it can be used, or None when it can."""
    return store.problem(store.location(settings.storage.data_dir))
