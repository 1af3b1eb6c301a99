"""The Quart application factory: blueprints, lifecycle, error handlers."""

from __future__ import annotations

import logging
from pathlib import Path

from quart import Quart
from quart_schema import QuartSchema

from instance import lifecycle
from instance.config import VERSION, Settings, get_settings
from services.backends import Backends
from web.api import register_api
from web.cors import register_cors
from web.errors import register_error_handlers
from web.federation import federation
from web.health import health
from web.jsonprovider import OrjsonProvider
from web.metrics import register_metrics
from web.proxy import TrustedProxies
from web.ratelimit import register_rate_limits
from web.reads import register_read_routing
from web.streaming import register_streaming
from web.timing import register_server_timing
from web.ui import ui
from web.wellknown import wellknown

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"


def create_app(settings: Settings | None = None, backends: Backends | None = None) -> Quart:
    """A configured app. Given ``backends``, the caller owns the connections (tests do this)."""
    settings = settings or get_settings()
    app = Quart(__name__, root_path=str(WEB_ROOT))
    app.config.update(
        STARLING_SETTINGS=settings,
        MAX_CONTENT_LENGTH=1024 * 1024,
        QUART_SCHEMA_CONVERSION_PREFERENCE="pydantic",
    )
    QuartSchema(app, info={"title": "Starling client API", "version": VERSION})
    # QuartSchema also wraps make_response to convert what views return through pydantic; ours
    # return plain dicts and lists, for which that is a TypeAdapter built and a deep copy made
    # on every response (a few per cent of a request's CPU): answer them as they are.
    app.make_response = app.make_response.__wrapped__  # type: ignore[attr-defined,method-assign]
    # After QuartSchema, which installs its own provider: ours keeps keys in Mastodon's order
    # and encodes with orjson (we answer plain dicts, never pydantic models).
    app.json = OrjsonProvider(app)
    register_server_timing(app)
    register_cors(app)
    register_rate_limits(app)
    register_read_routing(app, settings)
    register_error_handlers(app)
    register_api(app)
    register_streaming(app)
    app.register_blueprint(wellknown)
    app.register_blueprint(federation)
    app.register_blueprint(ui)
    app.register_blueprint(health)
    register_metrics(app)
    if settings.server.trusted_proxies:
        app.asgi_app = TrustedProxies(app.asgi_app, settings.server.trusted_proxies)  # type: ignore[method-assign]

    if backends is not None:
        app.extensions["starling"] = backends
    else:

        @app.before_serving
        async def open_backends() -> None:
            app.extensions["starling"] = await lifecycle.open_backends(settings)
            lifecycle.freeze_startup_heap()

        @app.after_serving
        async def close_backends() -> None:
            await lifecycle.close_backends(app.extensions.pop("starling"))

    logging.getLogger(__name__).debug("app created for %s", settings.instance.domain)
    return app
