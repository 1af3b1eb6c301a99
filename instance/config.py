"""Settings: config.toml overlaid with ``STARLING_<SECTION>_<KEY>`` environment variables.

Loaded once into a frozen object. No other module reads the environment or the file: they
receive a ``Settings`` (or call :func:`get_settings`, which loads it the first time).
"""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

VERSION = "0.1.0"
# What /api/v1/instance reports: clients switch features on Mastodon's version number.
MASTODON_VERSION = f"4.2.0 (compatible; Starling {VERSION})"

ENV_PREFIX = "STARLING_"
CONFIG_ENV = "STARLING_CONFIG"
DEFAULT_CONFIG_FILE = Path(__file__).resolve().parent.parent / "config.toml"

# Where we look for Postgres and Redis when no URL is configured.
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/starling"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class ConfigError(Exception):
    """An invalid setting: the message is one line naming the key."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InstanceSettings(_Section):
    domain: str = Field("localhost", min_length=1, pattern=r"^[A-Za-z0-9.\-]+(:\d{1,5})?$")
    name: str = Field("Starling", min_length=1, max_length=100)
    https: bool = True
    description: str = "A small, fast, federated microblogging server."
    contact_email: str = ""


def _split_list(value: Any) -> Any:
    """A list from TOML, or a comma-separated string from a STARLING_* variable."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _check_networks(value: tuple[str, ...]) -> tuple[str, ...]:
    for network in value:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ValueError(f"{network!r} is not a network ({exc})") from None
    return value


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    # Reverse proxies (addresses or networks) whose X-Forwarded-For / -Proto we believe;
    # from anyone else those headers are ignored (any client could forge them).
    trusted_proxies: tuple[str, ...] = ()

    _split = field_validator("trusted_proxies", mode="before")(_split_list)
    _valid = field_validator("trusted_proxies")(_check_networks)


class WorkerSettings(_Section):
    # True: `starling run` with server.workers = 1 runs the jobs in its web server's process and
    # event loop (one process for a small instance); false: a worker process of their own.
    # `starling web` never runs jobs: production starts `starling worker` processes beside it.
    embedded: bool = True


class MetricsSettings(_Section):
    # Who may read /metrics: these addresses or networks, or anyone with the bearer token.
    allow: tuple[str, ...] = ("127.0.0.1", "::1")
    token: str = ""

    _split = field_validator("allow", mode="before")(_split_list)
    _valid = field_validator("allow")(_check_networks)


class LoggingSettings(_Section):
    format: Literal["text", "json"] = "text"  # json: one object per line, for log shippers
    level: Literal["debug", "info", "warning", "error"] = "info"


class DatabaseSettings(_Section):
    # Empty means "not configured": use DEFAULT_DATABASE_URL if it answers, else embedded.
    url: str = ""
    # Streaming replicas for read-only paths (services/reads); empty: every read is primary.
    replica_urls: tuple[str, ...] = ()
    # A replica further behind than this (or down) is skipped: reads go to the primary.
    replica_max_lag_seconds: float = Field(5.0, gt=0)

    @field_validator("url")
    @classmethod
    def _postgres_only(cls, value: str) -> str:
        if value and not value.startswith(("postgres://", "postgresql://")):
            raise ValueError("must be a postgres:// URL")
        return value

    @field_validator("replica_urls", mode="before")
    @classmethod
    def _split_replicas(cls, value: Any) -> Any:
        """STARLING_DATABASE_REPLICA_URLS: a comma-separated list, or a JSON list."""
        if isinstance(value, str) and value.strip().startswith("["):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError("must be a JSON list of postgres:// URLs") from None
        return _split_list(value)

    @field_validator("replica_urls")
    @classmethod
    def _postgres_replicas(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            if not url.startswith(("postgres://", "postgresql://")):
                raise ValueError(f"{url!r} is not a postgres:// URL")
        return value


class RedisSettings(_Section):
    # The job queues (arq). Empty means "not configured": DEFAULT_REDIS_URL, else embedded.
    url: str = ""
    # Timelines, post/account snapshots, rate limits, the token cache, web sessions, streaming
    # pub/sub, domain states: everything but the queues. Empty: the same server as ``url``.
    cache_url: str = ""
    # The cache is a Redis Cluster (cache_url names any one of its nodes; the rest are found).
    cache_cluster: bool = False

    @field_validator("url", "cache_url")
    @classmethod
    def _redis_only(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @model_validator(mode="after")
    def _cluster_needs_tcp(self) -> RedisSettings:
        if self.cache_cluster and not self.cache.startswith(("redis://", "rediss://")):
            raise ValueError("cache_cluster needs a redis:// or rediss:// cache_url (a node)")
        return self

    @property
    def cache(self) -> str:
        """The cache's URL (``cache_url``, or the queues' server when it is empty)."""
        return self.cache_url or self.url


class StorageSettings(_Section):
    data_dir: Path = Path("var")


class TimelineSettings(_Section):
    fanout_max_followers: int = Field(1000, ge=0)


class FederationSettings(_Section):
    # Both off in production: plain-http peers and private addresses are for tests and local
    # development (several instances on one machine).
    allow_http: bool = False
    allowed_private_networks: tuple[str, ...] = ()
    # Delivery: exponential back-off from retry_base_seconds, each wait at most
    # retry_max_wait_seconds, for retry_max_hours after the activity was queued.
    retry_base_seconds: float = Field(60.0, gt=0)
    retry_max_wait_seconds: float = Field(6 * 3600.0, gt=0)
    retry_max_hours: float = Field(72.0, gt=0)
    # Circuit breaker: after this many failed attempts in a row a domain is unreachable and
    # gets one probe per probe interval until it answers (or talks to us).
    breaker_failures: int = Field(10, ge=1)
    breaker_probe_seconds: float = Field(600.0, gt=0)
    # Concurrent deliveries to one domain from one worker process.
    domain_concurrency: int = Field(8, ge=1, le=256)
    # How often the sweep re-enqueues due deliveries and unprocessed inbox items.
    sweep_seconds: int = Field(15, ge=1, le=60)
    # Fetches one remote domain can cause per minute, and how deep a chain of fetched
    # objects (boosted posts, reply parents) may go.
    fetch_budget_per_minute: int = Field(300, ge=1)
    max_fetch_depth: int = Field(3, ge=0, le=20)

    @field_validator("allowed_private_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    _valid_networks = field_validator("allowed_private_networks")(_check_networks)


def secure_or_loopback(url: str) -> bool:
    """https, or plain http to this machine only (an OpenID provider run for tests or local
    development): no global switch a production instance could leave on by mistake."""
    parts = urlsplit(url)
    if not parts.hostname or parts.username or parts.password:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


class OIDCProviderSettings(_Section):
    """One ``[[auth.oidc]]`` table: a third-party OpenID Connect provider to sign in with."""

    # In URLs (/auth/oidc/NAME) and, unless ``label`` says otherwise, on the button.
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")
    label: str = Field("", max_length=60)
    # Exactly as the provider's discovery document states it (a trailing slash counts).
    issuer: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret: str = ""  # empty: a public client (PKCE only)
    scopes: str = "openid profile email"

    @field_validator("issuer")
    @classmethod
    def _secure_issuer(cls, value: str) -> str:
        if not secure_or_loopback(value) or urlsplit(value).query or urlsplit(value).fragment:
            raise ValueError("must be an https:// URL without query (http only on loopback)")
        return value

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: str) -> str:
        if "openid" not in value.split():
            raise ValueError('must include "openid"')
        return " ".join(value.split())

    @property
    def display_name(self) -> str:
        return self.label or self.name


class AuthSettings(_Section):
    password_sign_in: bool = True  # false: only the providers below sign anyone in
    oidc: tuple[OIDCProviderSettings, ...] = ()

    @field_validator("oidc", mode="before")
    @classmethod
    def _json_list(cls, value: Any) -> Any:
        """STARLING_AUTH_OIDC holds the providers as a JSON list of tables."""
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else []
            except ValueError:
                raise ValueError("must be a JSON list of providers") from None
        return [value] if isinstance(value, dict) else value

    @field_validator("oidc")
    @classmethod
    def _unique_names(
        cls, value: tuple[OIDCProviderSettings, ...]
    ) -> tuple[OIDCProviderSettings, ...]:
        names = [provider.name.lower() for provider in value]
        duplicate = next((name for name in names if names.count(name) > 1), None)
        if duplicate:
            raise ValueError(f"two providers are named {duplicate!r}")
        return value

    @model_validator(mode="after")
    def _someone_can_sign_in(self) -> AuthSettings:
        if not self.password_sign_in and not self.oidc:
            raise ValueError("password_sign_in is false but no [[auth.oidc]] provider is set")
        return self

    def provider(self, name: str) -> OIDCProviderSettings | None:
        return next((p for p in self.oidc if p.name.lower() == name.lower()), None)


class Settings(_Section):
    instance: InstanceSettings = InstanceSettings()
    server: ServerSettings = ServerSettings()
    worker: WorkerSettings = WorkerSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    storage: StorageSettings = StorageSettings()
    timeline: TimelineSettings = TimelineSettings()
    federation: FederationSettings = FederationSettings()
    metrics: MetricsSettings = MetricsSettings()
    logging: LoggingSettings = LoggingSettings()
    auth: AuthSettings = AuthSettings()

    @property
    def base_url(self) -> str:
        """Our own origin, e.g. ``https://example.social`` or ``http://127.0.0.1:8000``."""
        scheme = "https" if self.instance.https else "http"
        return f"{scheme}://{self.instance.domain}"

    def with_urls(self, database_url: str, redis_url: str) -> Settings:
        """A copy pointing at the services actually in use (found or embedded)."""
        return self.model_copy(
            update={
                "database": self.database.model_copy(update={"url": database_url}),
                "redis": self.redis.model_copy(update={"url": redis_url}),
            }
        )


def _env_overrides(env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    overrides: dict[str, dict[str, str]] = {}
    sections = Settings.model_fields
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section = next((s for s in sections if rest.startswith(s + "_")), None)
        if section is None:
            raise ConfigError(f"unknown setting {name}: no section {rest.split('_')[0]!r}")
        overrides.setdefault(section, {})[rest[len(section) + 1 :]] = value
    return overrides


def _describe(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc)
    env_name = ENV_PREFIX + "_".join(loc[:2]).upper()
    if error["type"] == "extra_forbidden":
        return f"unknown setting {key} ({env_name})"
    return f"invalid setting {key} ({env_name}): {error['msg']}"


def load_settings(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the config file (``STARLING_CONFIG`` or ./config.toml) and apply env overrides."""
    env = os.environ if env is None else env
    path = Path(path or env.get(CONFIG_ENV) or DEFAULT_CONFIG_FILE)
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    elif CONFIG_ENV in env:
        raise ConfigError(f"{CONFIG_ENV}={path}: no such file")
    for section, values in _env_overrides(env).items():
        current = data.get(section)
        data[section] = {**(current if isinstance(current, dict) else {}), **values}
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0])) from None


@cache
def get_settings() -> Settings:
    """The process-wide settings, loaded on first use."""
    return load_settings()
