"""Ids in URL paths: anything but a snowflake-sized decimal number names nothing (404)."""

from __future__ import annotations

from services.errors import NotFound

MAX_ID_DIGITS = 19  # 2**63 - 1 has 19 digits


def snowflake_from_path(raw: str) -> int:
    """The id in ``raw``; NotFound for "abc", "-1", "0", "１２" (full-width) or > 2**63 - 1."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > MAX_ID_DIGITS:
        raise NotFound("Record not found")
    value = int(raw)
    if value <= 0 or value >= 2**63:
        raise NotFound("Record not found")
    return value
