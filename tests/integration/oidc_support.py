"""OpenID providers for the OIDC sign-in tests, on loopback ports of this test session.

``mock_provider``: oidc-provider-mock (a real provider built on authlib's server), serving
discovery, JWKS, an authorization page and a token endpoint. ``FakeIssuer``: a tiny issuer of
our own for what a well-behaved provider never sends (a token for another client, signed with
a key it does not publish, expired, with another nonce), signing with joserfc.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import werkzeug.serving
from joserfc import jwt
from joserfc.jwk import RSAKey
from quart import Quart

from instance.app import create_app
from instance.config import AuthSettings, OIDCProviderSettings, Settings
from services.backends import Backends
from tests.integration.ui_support import HTML

CLIENT_ID = "starling-test"
CLIENT_SECRET = "s3cret-of-the-test-client"


@contextlib.contextmanager
def serving(server: Any) -> Iterator[str]:
    """Run a threaded HTTP server until the block ends; yields its base URL."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextlib.contextmanager
def mock_provider_server() -> Iterator[str]:
    # Imported here, under pytest's warning filters: it uses authlib's deprecated jose module.
    import oidc_provider_mock

    app = oidc_provider_mock.app(require_nonce=True)
    with serving(werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)) as url:
        yield url


def provider(name: str, issuer: str, **overrides: Any) -> OIDCProviderSettings:
    values = {"name": name, "issuer": issuer, "client_id": CLIENT_ID}
    values["client_secret"] = CLIENT_SECRET
    return OIDCProviderSettings(**(values | overrides))


def app_with(
    settings: Settings,
    backends: Backends,
    *providers: OIDCProviderSettings,
    password_sign_in: bool = True,
) -> Quart:
    auth = AuthSettings(oidc=providers, password_sign_in=password_sign_in)
    return create_app(settings.model_copy(update={"auth": auth}), backends)


async def set_user(provider_url: str, claims: dict[str, Any]) -> str:
    """A person at the mock provider; answers their subject."""
    subject = f"sub-{uuid.uuid4().hex}"
    async with httpx.AsyncClient() as http:
        answer = await http.put(f"{provider_url}/users/{subject}", json=claims)
    assert answer.status_code == 204, answer.text
    return subject


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def start(client, name: str, next_path: str | None = None) -> str:
    """Click "Sign in with NAME": answers the provider's authorization URL."""
    query = f"?{urlencode({'next': next_path})}" if next_path else ""
    response = await client.get(f"/auth/oidc/{name}{query}", headers=HTML)
    assert response.status_code == 302, await response.get_data(as_text=True)
    return response.headers["Location"]


async def at_provider(authorize_url: str, **form: str) -> str:
    """What the person does on the provider's page (``sub=...`` to approve, or
    ``action=deny``); answers the callback URL the provider sends the browser to."""
    async with httpx.AsyncClient() as http:
        answer = await http.post(authorize_url, data=form)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


async def sign_in_with_mock(client, subject: str, name: str = "mock", next_path: str | None = None):
    """The whole round trip through the mock provider; answers our callback's response."""
    callback = await at_provider(await start(client, name, next_path), sub=subject)
    return await client.get(path_of(callback), headers=HTML)


# The fake issuer


def _now() -> int:
    return int(time.time())


@dataclass
class FakeIssuer:
    """Discovery, JWKS, an authorize endpoint that approves at once and a token endpoint whose
    ID token the test shapes: ``audience``, ``expires_in``, ``nonce``, ``sign_with``..."""

    url: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    other_key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"})
    )
    subject: str = "fake-subject"
    claims: dict[str, Any] = field(default_factory=dict)
    audience: str = CLIENT_ID
    issuer_claim: str | None = None
    expires_in: int = 300
    nonce: str | None = None  # None: the one the authorization request carried
    sign_with_other_key: bool = False
    discovery_issuer: str | None = None
    seen_nonce: str = ""
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.discovery_issuer or self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def id_token(self) -> str:
        claims = {
            "iss": self.issuer_claim or self.url,
            "sub": self.subject,
            "aud": self.audience,
            "iat": _now(),
            "exp": _now() + self.expires_in,
            "nonce": self.seen_nonce if self.nonce is None else self.nonce,
            **self.claims,
        }
        key = self.other_key if self.sign_with_other_key else self.key
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)

    def token(self, form: dict[str, list[str]]) -> dict[str, Any]:
        self.token_requests.append(form)
        return {"access_token": "fake-at", "token_type": "Bearer", "id_token": self.id_token()}


def _handler(issuer: FakeIssuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def _json(self, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/.well-known/openid-configuration":
                return self._json(issuer.discovery())
            if parts.path == "/jwks":
                return self._json({"keys": [issuer.key.as_dict(private=False)]})
            if parts.path == "/authorize":
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                issuer.seen_nonce = query.get("nonce", "")
                back = urlencode({"code": "fake-code", "state": query.get("state", "")})
                self.send_response(302)
                self.send_header("Location", f"{query['redirect_uri']}?{back}")
                self.end_headers()
                return None
            self.send_error(404)
            return None

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            if urlsplit(self.path).path == "/token":
                return self._json(issuer.token(form))
            self.send_error(404)
            return None

    return Handler


@contextlib.contextmanager
def fake_issuer_server() -> Iterator[FakeIssuer]:
    issuer = FakeIssuer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(issuer))
    server.daemon_threads = True
    with serving(server) as url:
        issuer.url = url
        yield issuer


async def sign_in_with_fake(client, issuer: FakeIssuer, name: str = "fake"):
    authorize_url = await start(client, name)
    async with httpx.AsyncClient() as http:
        answer = await http.get(authorize_url)
    assert answer.status_code == 302, answer.text
    return await client.get(path_of(answer.headers["Location"]), headers=HTML)
