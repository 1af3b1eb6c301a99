"""Shared model pieces: snowflake primary keys and timestamps."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.ids import next_id


def snowflake_pk() -> fields.BigIntField:
    return fields.BigIntField(primary_key=True, generated=False, default=next_id)


class SnowflakeModel(Model):
    id = snowflake_pk()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        abstract = True
