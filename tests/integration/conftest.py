"""Fixtures for integration tests that talk to (fake) remote servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from quart.typing import TestClientProtocol

from instance.app import create_app
from instance.config import Settings
from services.backends import Backends
from tests.fakes import Fediverse
from tests.integration.oidc_support import FakeIssuer, fake_issuer_server, mock_provider_server


@pytest.fixture
def fediverse() -> Fediverse:
    """Fake remote servers, reached through the real SafeClient."""
    return Fediverse()


@pytest.fixture
def fed(backends: Backends, fediverse: Fediverse) -> Backends:
    """The test's backends, with outbound HTTP going to the fake fediverse."""
    return fediverse.backends(backends)


@pytest.fixture
def peer_client(settings: Settings, fed: Backends) -> TestClientProtocol:
    """The app, reaching the fake fediverse for keys, actors and posts."""
    return create_app(settings, fed).test_client()


@pytest.fixture(scope="session")
def mock_provider() -> Iterator[str]:
    """A real OpenID provider (oidc-provider-mock) on a loopback port: its issuer URL."""
    with mock_provider_server() as url:
        yield url


@pytest.fixture
def fake_issuer() -> Iterator[FakeIssuer]:
    """An issuer of our own whose ID tokens each test shapes (wrong audience, bad signature...)."""
    with fake_issuer_server() as issuer:
        yield issuer
