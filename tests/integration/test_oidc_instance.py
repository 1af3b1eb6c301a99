"""A real ``starling run`` configured through the environment (``STARLING_AUTH_OIDC``,
``STARLING_AUTH_PASSWORD_SIGN_IN``), signing a browser in through the mock provider over real
HTTP: cookies, redirects and the token exchange as a person's browser would meet them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.instances import instance_database_url, start_instance
from tests.integration.oidc_support import CLIENT_ID, CLIENT_SECRET, at_provider, set_user
from tests.support import drop_database, redis_url_with_db

OIDC_REDIS_DB = 15


@pytest.fixture
async def instance(service_urls: tuple[str, str], tmp_path: Path, mock_provider: str):
    server_url, redis_server_url = service_urls
    database_url = instance_database_url(server_url, "oidc")
    await drop_database(database_url)
    providers = [
        {
            "name": "mock",
            "label": "Mock ID",
            "issuer": mock_provider,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
    ]
    running = start_instance(
        "oidc",
        database_url,
        redis_url_with_db(redis_server_url, OIDC_REDIS_DB),
        tmp_path,
        extra_env={
            "STARLING_AUTH_OIDC": json.dumps(providers),
            "STARLING_AUTH_PASSWORD_SIGN_IN": "false",
        },
    )
    try:
        yield running
    finally:
        running.stop()
        await drop_database(database_url)


async def test_a_browser_signs_in_through_the_provider(instance, mock_provider):
    subject = await set_user(mock_provider, {"preferred_username": "carol", "name": "Carol"})
    async with httpx.AsyncClient(base_url=instance.base_url) as browser:
        login = await browser.get("/login")
        assert "Sign in with Mock ID" in login.text
        assert 'name="password"' not in login.text

        started = await browser.get("/auth/oidc/mock", params={"next": "/notifications"})
        assert started.status_code == 302
        callback = await at_provider(started.headers["Location"], sub=subject)
        assert callback.startswith(f"{instance.base_url}/auth/oidc/mock/callback?")
        back = await browser.get(callback)

        assert back.status_code == 303, back.text
        assert back.headers["Location"] == "/notifications"
        home = await browser.get("/home")
        assert home.status_code == 200
        assert "@carol" in home.text
