"""Shared model pieces: snowflake primary keys and timestamps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from tortoise import fields
from tortoise.models import Model

from models.ids import next_id

M = TypeVar("M", bound=Model)


def from_row(model: type[M], row: Mapping[str, Any]) -> M:
    """A model instance from a raw row holding every column of its table (``SELECT t.*``;
    other columns are ignored), built as Tortoise builds query results but without its query
    builder, which costs milliseconds a query: for the hot paths that need a model object."""
    return model._init_from_db(**row)


def snowflake_pk() -> fields.BigIntField:
    return fields.BigIntField(primary_key=True, generated=False, default=next_id)


class SnowflakeModel(Model):
    id = snowflake_pk()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        abstract = True
