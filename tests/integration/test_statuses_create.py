"""``POST /api/v1/statuses``: length, text rendering, defaults, idempotency, side effects."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import asyncpg
import orjson
import pytest
from quart.typing import TestClientProtocol as Client
from tortoise.timezone import now

from instance.config import Settings
from models.accounts import Account, User
from models.ids import next_id
from models.notifications import Notification, NotificationType
from models.posts import Mention, Post, Tag, Visibility
from models.relationships import Follow, FollowState
from services import postcache, posting, timelines
from tests.drain import drain
from tests.factories import bearer, make_user, token_for
from tests.html import built_from


async def author(settings: Settings, name: str = "alice") -> tuple[User, dict[str, str]]:
    user = await make_user(settings, name)
    return user, bearer(await token_for(user, "read write follow"))


async def post(client: Client, headers: dict[str, str], **fields: Any) -> Any:
    return await client.post("/api/v1/statuses", json=fields, headers=headers)


# Length: code points after NFC, links as written, content warning included


async def test_post_of_280_multibyte_characters_is_accepted(client, settings):
    _, headers = await author(settings)
    body = "日本語🐦é" * 56  # 5 code points each, 2-4 bytes each in UTF-8

    response = await post(client, headers, status=body)

    assert response.status_code == 200
    assert (await response.get_json())["content"] == f"<p>{body}</p>"


async def test_post_of_281_characters_is_422_with_a_clear_message(client, settings):
    _, headers = await author(settings)

    response = await post(client, headers, status="日" * 281)

    assert response.status_code == 422
    assert "280" in (await response.get_json())["error"]
    assert await Post.all().count() == 0


async def test_combining_sequences_count_once_after_nfc(client, settings):
    _, headers = await author(settings)
    decomposed = "e\u0301" * 280  # 560 code points as sent, 280 "é" after NFC

    response = await post(client, headers, status=decomposed)

    assert response.status_code == 200
    assert (await response.get_json())["content"] == "<p>" + "\u00e9" * 280 + "</p>"


async def test_one_more_composed_character_is_over_the_limit(client, settings):
    _, headers = await author(settings)

    response = await post(client, headers, status="e\u0301" * 280 + "x")

    assert response.status_code == 422


async def test_a_long_url_counts_as_written(client, settings):
    _, headers = await author(settings)
    url = "https://example.com/" + "a" * 260  # 280 characters
    assert len(url) == 280

    exact = await post(client, headers, status=url)
    over = await post(client, headers, status=url + "b")

    assert exact.status_code == 200
    assert f'href="{url}"' in (await exact.get_json())["content"]
    assert over.status_code == 422


async def test_the_content_warning_counts_towards_the_limit(client, settings):
    _, headers = await author(settings)

    response = await post(client, headers, status="x" * 181, spoiler_text="y" * 100)

    assert response.status_code == 422


@pytest.mark.parametrize("body", ["", "   ", " \n\t\r\n "])
async def test_empty_or_blank_status_is_422(client, settings, body):
    _, headers = await author(settings)

    response = await post(client, headers, status=body)

    assert response.status_code == 422
    assert "blank" in (await response.get_json())["error"]


async def test_missing_status_is_422(client, settings):
    _, headers = await author(settings)

    response = await post(client, headers, visibility="public")

    assert response.status_code == 422


# Rendering: links for mentions, tags and URLs; nothing typed becomes markup


async def test_mentions_and_hashtags_render_as_links(client, settings):
    _, headers = await author(settings)
    bob = await make_user(settings, "bob")

    response = await post(client, headers, status="hi @bob and @bob@starling.test #Birds")

    entity = await response.get_json()
    assert 'href="https://starling.test/@bob" class="u-url mention"' in entity["content"]
    assert entity["content"].count("@<span>bob</span>") == 2
    assert 'href="https://starling.test/tags/birds"' in entity["content"]
    assert entity["mentions"] == [
        {
            "id": str(bob.account_id),
            "username": "bob",
            "url": "https://starling.test/@bob",
            "acct": "bob",
        }
    ]
    assert entity["tags"] == [{"name": "birds", "url": "https://starling.test/tags/birds"}]
    assert await Tag.filter(name="birds").count() == 1


async def test_a_known_remote_account_is_mentioned_by_its_acct(client, settings):
    _, headers = await author(settings)
    remote = await Account.create(
        username="Carol",
        domain="remote.example",
        acct="carol@remote.example",
        uri="https://remote.example/users/carol",
        url="https://remote.example/@carol",
    )

    entity = await (await post(client, headers, status="hey @carol@Remote.Example")).get_json()

    assert 'href="https://remote.example/@carol"' in entity["content"]
    assert [m["id"] for m in entity["mentions"]] == [str(remote.id)]


async def test_an_unknown_mention_stays_plain_text(client, settings):
    _, headers = await author(settings)

    entity = await (await post(client, headers, status="hi @nobody and @x@far.example")).get_json()

    assert entity["content"] == "<p>hi @nobody and @x@far.example</p>"
    assert entity["mentions"] == []
    assert await Mention.all().count() == 0


async def test_a_tag_used_again_is_the_same_tag(client, settings):
    _, headers = await author(settings)

    await post(client, headers, status="#Birds")
    await post(client, headers, status="#BIRDS #birds")

    assert await Tag.all().values_list("name", flat=True) == ["birds"]


async def test_a_tag_another_post_creates_meanwhile_is_linked_too(client, settings, database):
    """Another transaction writes the tag first and commits while this post waits on its row:
    the post still carries the tag, in Postgres and on the tag's timeline."""
    _, headers = await author(settings)
    other = await asyncpg.connect(database)
    try:
        writer = other.transaction()
        await writer.start()
        await other.execute(
            "INSERT INTO tags (id, name, created_at) VALUES ($1, 'swifts', now())", next_id()
        )
        posting_one = asyncio.create_task(post(client, headers, status="first #swifts"))
        for _ in range(200):  # until the post's statement waits on the uncommitted tag
            waiting = await other.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if waiting:
                break
            await asyncio.sleep(0.02)
        assert waiting, "the post never waited on the other transaction's tag"
        await writer.commit()
    finally:
        await other.close()
    response = await posting_one

    assert response.status_code == 200
    written = await Post.get(id=int((await response.get_json())["id"]))
    assert await written.tags.all().values_list("name", flat=True) == ["swifts"]
    timeline = await client.get("/api/v1/timelines/tag/swifts", headers=headers)
    assert [status["id"] for status in await timeline.get_json()] == [str(written.id)]


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        'https://example.com/"><script>alert(1)</script>',
        '<a href="javascript:alert(1)">x</a>',
    ],
)
async def test_markup_in_the_text_is_shown_never_run(client, settings, attack):
    _, headers = await author(settings)

    entity = await (await post(client, headers, status=attack)).get_json()

    tags, attributes, hrefs = built_from(entity["content"])
    assert tags <= {"p", "a", "span", "br"}
    assert not [name for name in attributes if name.startswith("on")]
    assert all(href.startswith(("http://", "https://")) for href in hrefs)
    assert "&lt;" in entity["content"]  # the typed markup is shown as text


async def test_a_content_warning_is_plain_text_and_marks_the_post_sensitive(client, settings):
    # Mastodon's spoiler_text is plain text that clients escape; it never reaches the HTML.
    _, headers = await author(settings)
    warning = '<script>alert(1)</script><img src=x onerror="alert(1)">'

    entity = await (await post(client, headers, status="body", spoiler_text=warning)).get_json()

    assert entity["spoiler_text"] == warning
    assert entity["content"] == "<p>body</p>"
    assert entity["sensitive"] is True


# Defaults and parameters


async def test_visibility_defaults_to_the_users_default(client, settings):
    user, headers = await author(settings)
    await User.filter(id=user.id).update(default_visibility=Visibility.FOLLOWERS)

    entity = await (await post(client, headers, status="hi")).get_json()

    assert entity["visibility"] == "private"


@pytest.mark.parametrize("name", ["public", "unlisted", "private", "direct"])
async def test_each_api_visibility_is_kept(client, settings, name):
    _, headers = await author(settings)

    entity = await (await post(client, headers, status="hi", visibility=name)).get_json()

    assert entity["visibility"] == name


async def test_a_silenced_author_posts_public_as_unlisted(client, settings):
    user, headers = await author(settings)
    await Account.filter(id=user.account_id).update(silenced_at=now())

    entity = await (await post(client, headers, status="hi", visibility="public")).get_json()

    assert entity["visibility"] == "unlisted"


async def test_a_language_that_is_not_a_code_falls_back_to_the_users_default(client, settings):
    user, headers = await author(settings)
    await User.filter(id=user.id).update(default_language="fr")

    given = await (await post(client, headers, status="hi", language="de")).get_json()
    fallback = await (await post(client, headers, status="hi", language="<b>")).get_json()

    assert (given["language"], fallback["language"]) == ("de", "fr")


async def test_a_lone_content_warning_is_posted_as_the_text(client, settings):
    # Mastodon moves the warning into the text rather than refusing the post.
    _, headers = await author(settings)

    entity = await (await post(client, headers, status="", spoiler_text="just this")).get_json()

    assert (entity["content"], entity["spoiler_text"]) == ("<p>just this</p>", "")


async def test_an_unknown_visibility_is_422(client, settings):
    _, headers = await author(settings)

    response = await post(client, headers, status="hi", visibility="followers")

    assert response.status_code == 422


async def test_a_form_encoded_post_works(client, settings):
    _, headers = await author(settings)

    response = await client.post(
        "/api/v1/statuses",
        form={"status": "from a form", "sensitive": "true", "language": "de", "visibility": ""},
        headers=headers,
    )

    entity = await response.get_json()
    assert response.status_code == 200
    assert (entity["content"], entity["sensitive"], entity["language"]) == (
        "<p>from a form</p>",
        True,
        "de",
    )
    assert entity["visibility"] == "public"


@pytest.mark.parametrize(
    "extra",
    [{"media_ids": ["1"]}, {"poll": {"options": ["a", "b"], "expires_in": 300}}],
)
async def test_media_and_polls_are_not_supported_yet(client, settings, extra):
    _, headers = await author(settings)

    response = await post(client, headers, status="hi", **extra)

    assert response.status_code == 422
    assert "not supported" in (await response.get_json())["error"]


async def test_posting_needs_a_token_with_write_statuses(client, settings):
    user = await make_user(settings, "alice")
    read_only = bearer(await token_for(user, "read"))

    anonymous = await client.post("/api/v1/statuses", json={"status": "hi"})
    forbidden = await post(client, read_only, status="hi")

    assert anonymous.status_code == 401
    assert forbidden.status_code == 403
    assert await Post.all().count() == 0


# Idempotency-Key


async def test_the_same_idempotency_key_answers_the_same_post(client, settings):
    _, headers = await author(settings)
    keyed = {**headers, "Idempotency-Key": "abc-123"}

    first = await (await post(client, keyed, status="once")).get_json()
    second = await (await post(client, keyed, status="once")).get_json()

    assert first["id"] == second["id"]
    assert await Post.all().count() == 1


async def test_another_key_or_author_makes_another_post(client, settings):
    _, alice = await author(settings, "alice")
    _, bob = await author(settings, "bob")

    await post(client, {**alice, "Idempotency-Key": "k1"}, status="a")
    await post(client, {**alice, "Idempotency-Key": "k2"}, status="a")
    await post(client, {**bob, "Idempotency-Key": "k1"}, status="a")

    assert await Post.all().count() == 3


async def test_an_idempotency_key_older_than_an_hour_posts_again(client, settings):
    _, headers = await author(settings)
    keyed = {**headers, "Idempotency-Key": "abc"}
    first = await (await post(client, keyed, status="one")).get_json()
    await Post.filter(id=int(first["id"])).update(created_at=now() - timedelta(minutes=61))

    second = await (await post(client, keyed, status="two")).get_json()

    assert second["id"] != first["id"]
    assert await Post.all().count() == 2


async def test_concurrent_requests_with_one_key_make_one_post(settings, backends):
    user = await make_user(settings, "alice")
    new = posting.NewPost(text="racing", idempotency_key="same")

    ids = await asyncio.gather(
        *(posting.create_post(backends, user.account_id, new) for _ in range(5))
    )

    assert len(set(ids)) == 1
    assert await Post.all().count() == 1
    assert (await Account.get(id=user.account_id)).posts_count == 1


# Side effects: counts, notifications, one transaction, fan-out


async def test_posting_counts_on_the_authors_next_read(client, settings):
    user, headers = await author(settings)
    before = await (await client.get(f"/api/v1/accounts/{user.account_id}")).get_json()

    await post(client, headers, status="hi")

    after = await (await client.get(f"/api/v1/accounts/{user.account_id}")).get_json()
    assert (before["statuses_count"], after["statuses_count"]) == (0, 1)
    assert after["last_status_at"] is not None


async def test_a_mention_notifies_the_mentioned_account_once(client, settings):
    _, headers = await author(settings)
    bob = await make_user(settings, "bob")

    entity = await (await post(client, headers, status="@bob @bob @Bob hi")).get_json()

    notes = await Notification.filter(recipient_id=bob.account_id).values(
        "type", "post_id", "actor_id"
    )
    assert len(notes) == 1
    assert notes[0]["type"] == NotificationType.MENTION
    assert notes[0]["post_id"] == int(entity["id"])


async def test_mentioning_yourself_notifies_nobody(client, settings):
    _, headers = await author(settings)

    response = await post(client, headers, status="note to self @alice")

    assert response.status_code == 200
    assert await Notification.all().count() == 0


async def test_a_direct_post_notifies_the_mentioned(client, settings):
    _, headers = await author(settings)
    bob = await make_user(settings, "bob")

    await post(client, headers, status="@bob psst", visibility="direct")

    assert await Notification.filter(recipient_id=bob.account_id).count() == 1


async def test_a_failure_inside_the_transaction_leaves_nothing(settings, backends, monkeypatch):
    user = await make_user(settings, "alice")
    await make_user(settings, "bob")

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("notifications are down")

    monkeypatch.setattr("services.notify.notify_many", broken)
    with pytest.raises(RuntimeError):
        await posting.create_post(
            backends, user.account_id, posting.NewPost(text="@bob look #Birds")
        )

    assert await Post.all().count() == 0
    assert await Mention.all().count() == 0
    assert await Tag.all().count() == 0
    assert (await Account.get(id=user.account_id)).posts_count == 0


async def test_a_new_post_reaches_a_followers_home_timeline(client, settings, backends):
    _, headers = await author(settings)
    fan = await make_user(settings, "fan")
    alice = await Account.get(acct="alice")
    await Follow.create(follower_id=fan.account_id, followee=alice, state=FollowState.ACCEPTED)
    await timelines.rebuild(backends.redis, settings, fan.account_id)

    entity = await (await post(client, headers, status="to my fans")).get_json()
    await drain(settings)

    members = await backends.redis.zrange(timelines.home_key(fan.account_id), 0, -1)
    assert entity["id"].encode() in members


async def test_the_answer_is_the_status_a_later_read_shows(client, settings, backends):
    # The answer is rendered from what was written, not read back: it must agree with a read
    # of the post from Postgres (mentions, tags in order, reply ids, counts, times).
    _, headers = await author(settings)
    await make_user(settings, "bob")
    parent = await (await post(client, headers, status="first")).get_json()

    answered = await (
        await post(
            client,
            headers,
            status="@bob see #Zebra and #apple",
            in_reply_to_id=parent["id"],
            spoiler_text="cw",
            language="en",
        )
    ).get_json()
    cached = await backends.redis.get(postcache.POST_KEY.format(answered["id"]))
    await backends.redis.delete(postcache.POST_KEY.format(answered["id"]))
    read = await (
        await client.get(f"/api/v1/statuses/{answered['id']}", headers=headers)
    ).get_json()

    assert [tag["name"] for tag in answered["tags"]] == ["apple", "zebra"]
    assert answered["mentions"][0]["acct"] == "bob"
    assert answered["in_reply_to_id"] == parent["id"]
    assert answered == read
    # The snapshot cached for the fan-out job and readers is the one Postgres gives.
    fresh = await postcache.load_posts(backends.redis, [int(answered["id"])])
    assert orjson.loads(cached) == fresh[int(answered["id"])]
    assert list(orjson.loads(cached)) == list(postcache.POST_SNAPSHOT_COLUMNS)
