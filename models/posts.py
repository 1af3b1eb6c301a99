"""Posts, and what a post points at: mentions and hashtags."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.base import SnowflakeModel


class Visibility(StrEnum):
    PUBLIC = "public"
    UNLISTED = "unlisted"
    FOLLOWERS = "followers"  # Mastodon's API calls it "private"
    DIRECT = "direct"


class Post(SnowflakeModel):
    """A post, or a boost: a Post whose ``boost_of`` points at another and has no text."""

    author: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="posts", on_delete=fields.CASCADE, db_index=False
    )
    uri = fields.CharField(max_length=1024, unique=True)
    url = fields.CharField(max_length=1024, default="", db_default="")
    local = fields.BooleanField(default=True, db_default=True)
    text = fields.TextField(default="")  # the source as typed (local posts)
    html = fields.TextField(default="")  # sanitised HTML, what clients show
    spoiler_text = fields.CharField(max_length=1024, default="", db_default="")
    sensitive = fields.BooleanField(default=False, db_default=False)
    language = fields.CharField(max_length=16, null=True)
    visibility = fields.CharEnumField(
        Visibility, default=Visibility.PUBLIC, db_default=Visibility.PUBLIC.value, max_length=16
    )
    in_reply_to: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Post", related_name="replies", null=True, on_delete=fields.SET_NULL, db_index=True
    )
    in_reply_to_account: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Account", related_name="replies_received", null=True, on_delete=fields.SET_NULL
    )
    in_reply_to_uri = fields.CharField(max_length=1024, null=True)  # a parent we do not hold
    boost_of: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Post", related_name="boosts", null=True, on_delete=fields.CASCADE, db_index=True
    )
    replies_count = fields.IntField(default=0, db_default=0)
    boosts_count = fields.IntField(default=0, db_default=0)
    likes_count = fields.IntField(default=0, db_default=0)
    idempotency_key = fields.CharField(max_length=255, null=True)
    edited_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)
    tags = fields.ManyToManyField("models.Tag", related_name="posts", through="post_tags")

    class Meta:
        table = "posts"
        # (author, id): an author's posts newest first, the read side of the hybrid fan-out;
        # (visibility, id) and (local, visibility, id): the public timelines; reply and boost
        # look-ups by their parent.
        indexes = (("author_id", "id"), ("visibility", "id"), ("local", "visibility", "id"))
        # One boost per account and post; ordinary posts have boost_of NULL, which never clashes.
        unique_together = (("author_id", "boost_of_id"), ("author_id", "idempotency_key"))


class Mention(SnowflakeModel):
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="mentions", on_delete=fields.CASCADE, db_index=False
    )
    account: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="mentioned_in", on_delete=fields.CASCADE, db_index=True
    )

    class Meta:
        table = "mentions"
        unique_together = (("post_id", "account_id"),)


class Tag(SnowflakeModel):
    name = fields.CharField(max_length=255, unique=True)  # lower-cased, without '#'

    class Meta:
        table = "tags"


class TagFollow(SnowflakeModel):
    """A local account following a hashtag: public posts with it reach the account's home."""

    account: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="followed_tags", on_delete=fields.CASCADE, db_index=False
    )
    tag: fields.ForeignKeyRelation[Tag] = fields.ForeignKeyField(
        "models.Tag", related_name="followers", on_delete=fields.CASCADE, db_index=True
    )

    class Meta:
        table = "tag_follows"
        unique_together = (("account_id", "tag_id"),)


class SearchChange(Model):
    """A post or account whose search document is stale.

    Written by database triggers (migration 0006) on every insert, edit, delete, suspension or
    profile change, whatever code made it, and deleted by the indexer once the index holds the
    change. A crash before that replays the row: indexing reads the row's current state, so a
    replay is harmless."""

    id = fields.BigIntField(primary_key=True)  # a sequence: the order changes were committed in
    kind = fields.CharField(max_length=16)  # "post" or "account"
    target_id = fields.BigIntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "search_changes"
