"""Placeholder blueprint: oauth endpoints."""

from __future__ import annotations

from quart import Blueprint

oauth = Blueprint("oauth", __name__)
