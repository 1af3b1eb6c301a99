"""Placeholder blueprint: instance endpoints."""

from __future__ import annotations

from quart import Blueprint

instance = Blueprint("instance", __name__)
