"""``[[auth.oidc]]`` providers and ``auth.password_sign_in``: from config.toml or the
environment, and one line naming the key when they are wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from instance.config import ConfigError, load_settings, secure_or_loopback

PROVIDERS = """
[auth]
password_sign_in = false

[[auth.oidc]]
name = "gitlab"
label = "GitLab"
issuer = "https://gitlab.example"
client_id = "abc"
client_secret = "xyz"

[[auth.oidc]]
name = "dev"
issuer = "http://127.0.0.1:9400"
client_id = "starling"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_providers_are_read_from_config_toml(tmp_path):
    auth = load_settings(write(tmp_path, PROVIDERS), env={}).auth

    assert not auth.password_sign_in
    gitlab, dev = auth.oidc
    assert (gitlab.name, gitlab.display_name, gitlab.client_secret) == ("gitlab", "GitLab", "xyz")
    assert gitlab.scopes == "openid profile email"  # the default
    assert dev.display_name == "dev"
    assert auth.provider("GITLAB") is gitlab
    assert auth.provider("other") is None


def test_by_default_there_are_no_providers_and_passwords_work(tmp_path):
    auth = load_settings(write(tmp_path, ""), env={}).auth

    assert auth.password_sign_in
    assert auth.oidc == ()


def test_the_environment_sets_providers_as_json(tmp_path):
    providers = [{"name": "mock", "issuer": "http://localhost:5000", "client_id": "x"}]
    env = {"STARLING_AUTH_OIDC": json.dumps(providers), "STARLING_AUTH_PASSWORD_SIGN_IN": "false"}

    auth = load_settings(write(tmp_path, ""), env=env).auth

    assert [p.issuer for p in auth.oidc] == ["http://localhost:5000"]
    assert not auth.password_sign_in


def provider(**fields: str) -> dict[str, str]:
    return {"name": "p", "issuer": "https://id.example", "client_id": "x"} | fields


@pytest.mark.parametrize(
    ("providers", "named", "reason"),
    [
        ([provider(issuer="http://id.example")], "auth.oidc.0.issuer", "https"),
        ([provider(issuer="ftp://id.example")], "auth.oidc.0.issuer", "https"),
        ([provider(issuer="https://id.example?x=1")], "auth.oidc.0.issuer", "query"),
        ([provider(scopes="profile email")], "auth.oidc.0.scopes", "openid"),
        ([provider(name="has space")], "auth.oidc.0.name", "pattern"),
        ([provider(), provider(issuer="https://b.example")], "auth.oidc", "two providers"),
        ([{"name": "p", "issuer": "https://id.example"}], "auth.oidc.0.client_id", "required"),
        ([provider(colour="blue")], "auth.oidc.0.colour", "unknown"),
        ("not json", "auth.oidc", "JSON list"),
    ],
)
def test_a_bad_provider_stops_start_up_with_one_line(tmp_path, providers, named, reason):
    value = providers if isinstance(providers, str) else json.dumps(providers)

    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, ""), env={"STARLING_AUTH_OIDC": value})

    message = str(caught.value)
    assert named in message
    assert reason in message
    assert "STARLING_AUTH_OIDC" in message
    assert "\n" not in message


def test_turning_passwords_off_needs_a_provider(tmp_path):
    with pytest.raises(ConfigError, match=r"no \[\[auth.oidc\]\] provider"):
        load_settings(write(tmp_path, "[auth]\npassword_sign_in = false\n"), env={})


@pytest.mark.parametrize(
    ("url", "secure"),
    [
        ("https://id.example", True),
        ("http://127.0.0.1:8080", True),
        ("http://[::1]:8080", True),
        ("http://localhost:8080/realms/x", True),
        ("http://id.example", False),
        ("http://10.0.0.1", False),
        ("https://user:pw@id.example", False),
        ("id.example", False),
    ],
)
def test_http_is_allowed_only_on_loopback(url, secure):
    assert secure_or_loopback(url) is secure
