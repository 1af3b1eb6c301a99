"""Moderation reports and instance-wide settings an admin edits at run time."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import SnowflakeModel


class ReportState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Report(SnowflakeModel):
    reporter: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="reports_made", on_delete=fields.CASCADE
    )
    target: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="reports_received", on_delete=fields.CASCADE
    )
    post_ids = fields.JSONField(default=list)
    comment = fields.TextField(default="")
    category = fields.CharField(max_length=32, default="other", db_default="other")
    state = fields.CharEnumField(
        ReportState, default=ReportState.OPEN, db_default=ReportState.OPEN.value, max_length=16
    )
    action = fields.CharField(max_length=32, default="", db_default="")
    forwarded = fields.BooleanField(default=False, db_default=False)
    uri = fields.CharField(max_length=1024, null=True, unique=True)
    resolved_at = fields.DatetimeField(null=True)
    # Mastodon's rule_ids: which of the instance's rules (ids as strings) it says were broken.
    rule_ids = fields.JSONField(default=list, db_default="[]")
    # The moderator looking into it, and the one who closed it (with what they wrote).
    assigned_account: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Account", related_name="reports_assigned", null=True, on_delete=fields.SET_NULL
    )
    action_taken_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Account", related_name="reports_resolved", null=True, on_delete=fields.SET_NULL
    )
    resolution_note = fields.TextField(default="", db_default="")
    updated_at = fields.DatetimeField(auto_now=True, null=True)

    class Meta:
        table = "reports"
        indexes = (("state", "id"),)


class InstanceSetting(SnowflakeModel):
    """One run-time setting, e.g. "registration_mode", "rules", "short_description"."""

    key = fields.CharField(max_length=64, unique=True)
    value = fields.JSONField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "instance_settings"
