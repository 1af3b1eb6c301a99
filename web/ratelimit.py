"""Per-IP rate limits (quart-rate-limiter) kept in our Redis, with Mastodon's X-RateLimit-*."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quart import Quart, Response, current_app, request
from quart_rate_limiter import RateLimit, RateLimiter
from quart_rate_limiter.store import RateLimiterStoreABC

KEY_PREFIX = "ratelimit:"


async def remote_addr_key() -> str:
    """The TCP peer's address, or the client's behind a configured proxy (web/proxy); never
    X-Forwarded-For from anyone else: any client could forge that header."""
    client = request.scope.get("client")
    return client[0] if client else "unknown"


# Mastodon's defaults (config/initializers/rack_attack.rb).
SIGN_UP = RateLimit(5, timedelta(minutes=30), remote_addr_key)
SIGN_IN = RateLimit(25, timedelta(minutes=5), remote_addr_key)
TOKEN = RateLimit(300, timedelta(minutes=5), remote_addr_key)


class BackendsRedisStore(RateLimiterStoreABC):
    """Theoretical arrival times in the app's own Redis connection, expiring when they pass."""

    @property
    def _redis(self):  # type: ignore[no-untyped-def]
        return current_app.extensions["starling"].redis

    async def before_serving(self) -> None:
        return None

    async def after_serving(self) -> None:
        return None

    async def get(self, key: str, default: datetime) -> datetime:
        value = await self._redis.get(KEY_PREFIX + key)
        return datetime.fromtimestamp(float(value), UTC) if value else default

    async def set(self, key: str, tat: datetime) -> None:
        ttl = max(1, int((tat - datetime.now(UTC)).total_seconds()) + 1)
        await self._redis.set(KEY_PREFIX + key, tat.timestamp(), ex=ttl)


# Budgets shared by every endpoint that applies them (Mastodon counts sign-in attempts per IP,
# whether they come through the authorize form or the password grant).
SHARED_BUDGETS = (SIGN_IN, SIGN_UP)


class SharedBudgetRateLimiter(RateLimiter):
    """quart-rate-limiter keys each limit per endpoint; ours share one budget per IP."""

    async def _create_key(self, endpoint: str, rate_limit: RateLimit) -> str:
        if any(rate_limit is shared for shared in SHARED_BUDGETS):
            return f"shared-{rate_limit.key}-{await rate_limit.key_function()}"
        return await super()._create_key(endpoint, rate_limit)


def register_rate_limits(app: Quart) -> None:
    # Registered before the limiter's own hook, so it runs after it (Quart runs them in reverse).
    @app.after_request
    async def mastodon_headers(response: Response) -> Response:
        # Mastodon clients read X-RateLimit-*; Reset is an ISO 8601 time there.
        if "RateLimit-Limit" in response.headers:
            reset = datetime.now(UTC) + timedelta(seconds=int(response.headers["RateLimit-Reset"]))
            response.headers["X-RateLimit-Limit"] = response.headers["RateLimit-Limit"]
            response.headers["X-RateLimit-Remaining"] = response.headers["RateLimit-Remaining"]
            response.headers["X-RateLimit-Reset"] = reset.isoformat(timespec="milliseconds")
        return response

    SharedBudgetRateLimiter(app, store=BackendsRedisStore())
