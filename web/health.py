"""Operator endpoints: ``/health`` (the process answers) and ``/ready`` (it can serve)."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify
from redis.exceptions import RedisError
from tortoise import connections
from tortoise.exceptions import DBConnectionError, OperationalError

from web.deps import backends

health = Blueprint("health", __name__)


@health.get("/health")
async def alive() -> Response:
    return jsonify({"status": "ok"})


@health.get("/ready")
async def ready() -> Response:
    """200 when PostgreSQL and Redis both answer, else 503 naming what does not."""
    checks = {"database": "ok", "redis": "ok"}
    try:
        await connections.get("default").execute_query("SELECT 1")
    except (OSError, DBConnectionError, OperationalError):
        checks["database"] = "unavailable"
    try:
        await backends().redis.ping()  # the cache
        await backends().queue.ping()  # the job queues (the same server unless split)
    except (OSError, RedisError):
        checks["redis"] = "unavailable"
    healthy = set(checks.values()) == {"ok"}
    response = jsonify({"status": "ok" if healthy else "unavailable", **checks})
    response.status_code = 200 if healthy else 503
    return response
