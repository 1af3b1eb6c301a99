"""Server-rendered pages (Jinja2 templates in templates/ui/, static files in web/static/).

Every action is a plain HTML form (POST, CSRF token, 303 back); web/static/starling.js only
enhances. Importing the modules below adds their routes to the one ``ui`` blueprint.
"""

from __future__ import annotations

from web.ui import (  # noqa: F401 - each module registers its routes on import
    actions,
    admin,
    admin_accounts,
    admin_dashboard,
    admin_domains,
    admin_reports,
    admin_settings,
    assets,
    auth_pages,
    avatars,
    compose,
    errors,
    forms,
    headers,
    notification_pages,
    oidc_pages,
    report_pages,
    search_page,
    settings_pages,
    timeline_pages,
)
from web.ui.blueprint import ui
from web.ui.post_pages import post_page
from web.ui.profile_pages import profile_page

__all__ = ["post_page", "profile_page", "ui"]
