"""Fixtures for integration tests that talk to (fake) remote servers."""

from __future__ import annotations

import pytest
from quart.typing import TestClientProtocol

from instance.app import create_app
from instance.config import Settings
from services.backends import Backends
from tests.fakes import Fediverse


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
