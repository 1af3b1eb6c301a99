"""``/.well-known/`` discovery documents."""

from __future__ import annotations

from quart import Blueprint

wellknown = Blueprint("wellknown", __name__)
