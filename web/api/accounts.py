"""Placeholder blueprint: accounts endpoints."""

from __future__ import annotations

from quart import Blueprint

accounts = Blueprint("accounts", __name__)
