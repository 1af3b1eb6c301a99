"""Notifications: written only by services/notify."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import SnowflakeModel


class NotificationType(StrEnum):
    # Mastodon's names, as its API shows them.
    MENTION = "mention"
    FAVOURITE = "favourite"
    REBLOG = "reblog"
    FOLLOW = "follow"
    FOLLOW_REQUEST = "follow_request"


class Notification(SnowflakeModel):
    recipient: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="notifications", on_delete=fields.CASCADE, db_index=False
    )
    type = fields.CharEnumField(NotificationType, max_length=32)
    actor: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account",
        related_name="notifications_caused",
        on_delete=fields.CASCADE,
        db_index=True,
    )
    post: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Post",
        related_name="notifications",
        null=True,
        on_delete=fields.CASCADE,
        db_index=True,
    )

    class Meta:
        table = "notifications"
        indexes = (("recipient_id", "id"),)
