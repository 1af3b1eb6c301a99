"""A realistic data set for the benchmarks, written with COPY (about ten seconds).

10,000 local accounts, each following 40 others at random; three "big" accounts followed by
1,500 accounts each and one followed by everybody (all above the fan-out limit, so they are
merged at read time); 100,000 posts over the last 30 days; 500 viewers with bearer tokens;
tokens for all 1,000 followers of the 1,000-follower account and for that account too (the
streaming benchmark's subscribers and author).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from activitypub.keys import generate_key_pair
from bench import corpus
from instance.config import TimelineSettings
from models.ids import id_from_datetime, next_id
from services import timelines, tokens

ACCOUNTS = 10_000
FOLLOWS_EACH = 40
BIG_ACCOUNTS = 3
BIG_FOLLOWERS = 1_500
POSTS = 100_000
VIEWERS = 500
STREAMERS = 1_000  # the followers of ``fan_1k``; the viewers are the last 500 of them


@dataclass(frozen=True)
class Seeded:
    viewer_tokens: list[str]
    viewer_ids: list[int]
    account_ids: list[int]
    everybody_follows: int  # the account every other account follows
    fan_1k: int  # an account followed by exactly 1,000 accounts
    fan_1k_token: str  # fan_1k's own bearer token
    follower_tokens: list[str]  # one for each of fan_1k's 1,000 followers


async def _accounts(
    conn: asyncpg.Connection, base_url: str, count: int = ACCOUNTS, prefix: str = "user"
) -> list[int]:
    """``count`` local accounts named ``<prefix><n>`` (one key pair shared by all)."""
    keys = generate_key_pair()
    now = datetime.now(UTC)
    rows, ids = [], []
    for n in range(count):
        account_id = next_id()
        ids.append(account_id)
        name = f"{prefix}{n}"
        uri = f"{base_url}/users/{name}"
        rows.append((
            account_id, now, name, None, name, f"{prefix.capitalize()} {n}", "", "", uri,
            f"{base_url}/@{name}",
            f"{uri}/inbox", f"{base_url}/inbox", f"{uri}/outbox", f"{uri}/followers",
            f"{uri}/following", f"{uri}#main-key", keys.public_pem, keys.private_pem, now,
        ))  # fmt: skip
    await conn.copy_records_to_table(
        "accounts",
        records=rows,
        columns=[
            "id", "created_at", "username", "domain", "acct", "display_name", "note",
            "note_source", "uri", "url", "inbox_uri", "shared_inbox_uri", "outbox_uri",
            "followers_uri", "following_uri", "public_key_id", "public_key", "private_key",
            "updated_at",
        ],
    )  # fmt: skip
    return ids


def _follow_graph(rng: random.Random, ids: list[int]) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    everybody, *big = ids[: 1 + BIG_ACCOUNTS]
    fan_1k = ids[1 + BIG_ACCOUNTS]
    for follower in ids:
        for followee in rng.sample(ids, FOLLOWS_EACH):
            if followee != follower and followee != fan_1k:
                pairs.add((follower, followee))
        if follower != everybody:
            pairs.add((follower, everybody))
    for account in big:
        for follower in rng.sample(ids, BIG_FOLLOWERS):
            if follower != account:
                pairs.add((follower, account))
    for follower in ids[-STREAMERS:]:
        pairs.add((follower, fan_1k))
    return pairs


async def _follows(conn: asyncpg.Connection, pairs: set[tuple[int, int]]) -> None:
    now = datetime.now(UTC)
    await conn.copy_records_to_table(
        "follows",
        records=[(next_id(), now, a, b, "accepted", True, False) for a, b in pairs],
        columns=[
            "id",
            "created_at",
            "follower_id",
            "followee_id",
            "state",
            "show_reblogs",
            "notify",
        ],
    )
    await conn.execute(
        "UPDATE accounts a SET followers_count = c.n FROM "
        "(SELECT followee_id, count(*) n FROM follows GROUP BY followee_id) c "
        "WHERE a.id = c.followee_id"
    )
    await conn.execute(
        "UPDATE accounts a SET following_count = c.n FROM "
        "(SELECT follower_id, count(*) n FROM follows GROUP BY follower_id) c "
        "WHERE a.id = c.follower_id"
    )


async def _posts(
    conn: asyncpg.Connection,
    rng: random.Random,
    ids: list[int],
    base_url: str,
    count: int = POSTS,
    prolific: int = 50,
) -> None:
    now = datetime.now(UTC)
    # A few accounts (the first ``prolific``) write much more than most, as on a real server.
    weights = [25 if n < prolific else 1 for n in range(len(ids))]
    authors = rng.choices(ids, weights=weights, k=count)
    rows = []
    for author in authors:
        created = now - timedelta(seconds=rng.uniform(60, 30 * 86400))
        post_id = id_from_datetime(created)
        text = corpus.sentence(rng)
        uri = f"{base_url}/statuses/{post_id}"
        rows.append((post_id, created, author, uri, uri, True, text, f"<p>{text}</p>", "public"))
    await conn.copy_records_to_table(
        "posts",
        records=rows,
        columns=[
            "id",
            "created_at",
            "author_id",
            "uri",
            "url",
            "local",
            "text",
            "html",
            "visibility",
        ],
    )
    await conn.execute(
        "UPDATE accounts a SET posts_count = c.n FROM "
        "(SELECT author_id, count(*) n FROM posts GROUP BY author_id) c WHERE a.id = c.author_id"
    )


async def _logins(
    conn: asyncpg.Connection,
    ids: list[int],
    accounts: list[int],
    prefix: str = "user",
    app: str = "bench",
) -> list[str]:
    """A user (no password) and a bearer token for each of ``accounts``, in order, under a
    new application ``app``; ``ids`` and ``prefix`` as given to ``_accounts`` (the emails)."""
    now = datetime.now(UTC)
    app_id = next_id()
    await conn.execute(
        "INSERT INTO oauth_applications (id, created_at, name, client_id, client_secret_hash,"
        " redirect_uris, scopes) VALUES ($1, $2, $3, $3, 'x',"
        " 'urn:ietf:wg:oauth:2.0:oob', 'read write follow')",
        app_id,
        now,
        app,
    )
    index = {account: n for n, account in enumerate(ids)}
    raw_tokens = [tokens.new_secret() for _ in accounts]
    users = [
        (next_id(), now, account, f"{prefix}{index[account]}@bench.example", None, "user", True, "")
        for account in accounts
    ]
    await conn.copy_records_to_table(
        "users",
        records=users,
        columns=[
            "id",
            "created_at",
            "account_id",
            "email",
            "password_hash",
            "role",
            "approved",
            "registration_reason",
        ],
    )
    await conn.copy_records_to_table(
        "oauth_access_tokens",
        records=[
            (next_id(), now, tokens.digest(raw), app_id, user[0], "read write follow")
            for raw, user in zip(raw_tokens, users, strict=True)
        ],
        columns=["id", "created_at", "token_hash", "application_id", "user_id", "scopes"],
    )
    return raw_tokens


async def seed(database_url: str, base_url: str, rng_seed: int = 7) -> Seeded:
    rng = random.Random(rng_seed)
    conn = await asyncpg.connect(database_url)
    try:
        ids = await _accounts(conn, base_url)
        await _follows(conn, _follow_graph(rng, ids))
        # Written around the fan-out, which would have marked them: the big accounts.
        big_limit = TimelineSettings().fanout_max_followers
        await conn.execute(timelines.RECOUNT_BIG_AUTHORS_SQL, big_limit)
        await _posts(conn, rng, ids, base_url)
        fan_1k = ids[1 + BIG_ACCOUNTS]
        # fan_1k's followers are the last STREAMERS accounts (_follow_graph): the viewers too.
        logins = await _logins(conn, ids, [*ids[-STREAMERS:], fan_1k])
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    followers = logins[:STREAMERS]
    return Seeded(
        followers[-VIEWERS:], ids[-VIEWERS:], ids, everybody_follows=ids[0], fan_1k=fan_1k,
        fan_1k_token=logins[-1], follower_tokens=followers,
    )  # fmt: skip
