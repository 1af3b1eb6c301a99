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

    class Meta:
        table = "reports"


class InstanceSetting(SnowflakeModel):
    """One run-time setting, e.g. "registration_mode", "rules", "short_description"."""

    key = fields.CharField(max_length=64, unique=True)
    value = fields.JSONField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "instance_settings"
