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
    # For moderators and admins only: a new sign-up (the actor is the new account) and a new
    # report (the actor is the reporter).
    ADMIN_SIGN_UP = "admin.sign_up"
    ADMIN_REPORT = "admin.report"


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
    # The report an ``admin.report`` notification is about.
    report: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Report",
        related_name="notifications",
        null=True,
        on_delete=fields.CASCADE,
        db_index=True,
    )

    class Meta:
        table = "notifications"
        indexes = (("recipient_id", "id"),)
