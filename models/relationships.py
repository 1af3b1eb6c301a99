"""Who follows, likes, blocks and mutes whom."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import SnowflakeModel


class FollowState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"


class Follow(SnowflakeModel):
    follower: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="following", on_delete=fields.CASCADE, db_index=False
    )
    followee: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="followers", on_delete=fields.CASCADE, db_index=False
    )
    state = fields.CharEnumField(
        FollowState,
        default=FollowState.PENDING,
        db_default=FollowState.PENDING.value,
        max_length=16,
    )
    uri = fields.CharField(max_length=1024, null=True, unique=True)  # the Follow activity id
    show_reblogs = fields.BooleanField(default=True, db_default=True)
    notify = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "follows"
        unique_together = (("follower_id", "followee_id"),)
        # Fan-out reads a followee's accepted followers.
        indexes = (("followee_id", "state"),)


class Like(SnowflakeModel):
    account: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="likes", on_delete=fields.CASCADE, db_index=False
    )
    post: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Post", related_name="likes", on_delete=fields.CASCADE, db_index=True
    )
    uri = fields.CharField(max_length=1024, null=True, unique=True)

    class Meta:
        table = "likes"
        unique_together = (("account_id", "post_id"),)


class Block(SnowflakeModel):
    account: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="blocks", on_delete=fields.CASCADE, db_index=False
    )
    target: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="blocked_by", on_delete=fields.CASCADE, db_index=True
    )
    uri = fields.CharField(max_length=1024, null=True, unique=True)

    class Meta:
        table = "blocks"
        unique_together = (("account_id", "target_id"),)


class Mute(SnowflakeModel):
    account: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="mutes", on_delete=fields.CASCADE, db_index=False
    )
    target: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="muted_by", on_delete=fields.CASCADE, db_index=True
    )
    hide_notifications = fields.BooleanField(default=True, db_default=True)
    expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "mutes"
        unique_together = (("account_id", "target_id"),)
