"""The Mastodon-compatible client API and its OAuth 2 endpoints."""

from __future__ import annotations

from quart import Quart

from web.api.accounts import accounts
from web.api.apps import apps
from web.api.instance import instance
from web.api.oauth import oauth
from web.api.timelines import timelines_api


def register_api(app: Quart) -> None:
    for blueprint in (apps, oauth, accounts, instance, timelines_api):
        app.register_blueprint(blueprint)
