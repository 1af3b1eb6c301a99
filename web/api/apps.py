"""Placeholder blueprint: apps endpoints."""

from __future__ import annotations

from quart import Blueprint

apps = Blueprint("apps", __name__)
