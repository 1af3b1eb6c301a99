"""The real migrations, on a scratch database: they apply, re-apply, and match the models."""

import asyncpg

from instance.backing import ensure_database
from models.migrate import apply_migrations, pending_changes
from tests.support import drop_database, with_database_name


async def test_migrations_create_every_table_and_match_the_models(settings):
    url = with_database_name(settings.database.url, settings.database.url.rsplit("/", 1)[1] + "_m")
    await drop_database(url)
    await ensure_database(url)
    try:
        await apply_migrations(url)
        await apply_migrations(url)  # a second run is a no-op
        assert await pending_changes(url) == []

        connection = await asyncpg.connect(url)
        try:
            tables = {
                row["table_name"]
                for row in await connection.fetch(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema='public'"
                )
            }
            id_default = await connection.fetchval(
                "SELECT column_default FROM information_schema.columns "
                "WHERE table_name = 'posts' AND column_name = 'id'"
            )
        finally:
            await connection.close()
    finally:
        await drop_database(url)
    expected = {
        "accounts", "users", "identities", "posts", "mentions", "tags", "post_tags", "follows",
        "likes", "blocks", "mutes", "notifications", "inbox_items", "deliveries", "domains",
        "oauth_applications", "oauth_authorization_codes", "oauth_access_tokens", "reports",
        "instance_settings", "tombstones",
    }  # fmt: skip
    assert expected <= tables
    # Snowflake ids come from the application, never from a database sequence.
    assert id_default is None
