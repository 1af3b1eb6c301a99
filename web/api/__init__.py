"""The Mastodon-compatible client API and its OAuth 2 endpoints."""

from __future__ import annotations

from quart import Quart

from web.api.accounts import accounts
from web.api.admin_accounts import admin_accounts
from web.api.admin_domain_blocks import admin_domain_blocks
from web.api.admin_reports import admin_reports
from web.api.apps import apps
from web.api.instance import instance
from web.api.interactions import interactions
from web.api.notifications import notifications
from web.api.oauth import oauth
from web.api.relationships import relationships
from web.api.reports import reports_api
from web.api.search import search_api
from web.api.statuses import statuses
from web.api.tags import tags_api
from web.api.timelines import timelines_api


def register_api(app: Quart) -> None:
    for blueprint in (
        apps,
        oauth,
        accounts,
        instance,
        timelines_api,
        interactions,
        statuses,
        relationships,
        notifications,
        tags_api,
        search_api,
        admin_domain_blocks,
        admin_reports,
        reports_api,
        admin_accounts,
    ):
        app.register_blueprint(blueprint)
