"""Mastodon.py, a real Mastodon client library, against a running instance: sign-up to profile."""

import pytest
from mastodon import Mastodon, MastodonIllegalArgumentError

SCOPES = ["read", "write", "follow"]


def test_mastodon_py_registers_logs_in_and_edits_the_profile(instance):
    # Given an app registered the way every Mastodon client registers one
    client_id, client_secret = Mastodon.create_app(
        "Starling e2e", api_base_url=instance.base_url, scopes=SCOPES
    )
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=instance.base_url)
    assert api.retrieve_mastodon_version() == "4.2.0"

    # When a person signs up through the app
    api.create_account("wren", "a long password", "wren@example.com", agreement=True, scopes=SCOPES)
    assert api.account_verify_credentials()["username"] == "wren"

    # And later logs in again, with the e-mail address, on a fresh client
    again = Mastodon(
        client_id=client_id, client_secret=client_secret, api_base_url=instance.base_url
    )
    # (allow_http: this test instance serves plain http on loopback)
    again.log_in(
        username="wren@example.com", password="a long password", scopes=SCOPES, allow_http=True
    )
    me = again.account_verify_credentials()
    assert me["acct"] == "wren"
    assert me["source"]["note"] == ""

    # Then the profile can be edited and everyone sees the change
    again.account_update_credentials(display_name="Wren", note="Small & <loud>", locked=True)
    profile = again.account(me["id"])
    assert profile["display_name"] == "Wren"
    assert profile["note"] == "<p>Small &amp; &lt;loud&gt;</p>"
    assert profile["locked"] is True
    assert again.account_lookup("wren")["id"] == me["id"]
    assert again.instance()["title"] == "Starling api"


def test_mastodon_py_sees_clear_errors_for_a_wrong_password_and_a_taken_name(instance):
    client_id, client_secret = Mastodon.create_app(
        "Starling e2e", api_base_url=instance.base_url, scopes=SCOPES
    )
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=instance.base_url)
    api.create_account(
        "finch", "a long password", "finch@example.com", agreement=True, scopes=SCOPES
    )

    other = Mastodon(
        client_id=client_id, client_secret=client_secret, api_base_url=instance.base_url
    )
    with pytest.raises(MastodonIllegalArgumentError, match="invalid_grant"):
        other.log_in(username="finch", password="wrong password", scopes=["read"], allow_http=True)
    with pytest.raises(MastodonIllegalArgumentError, match="Username has already been taken"):
        other.create_account(
            "FINCH", "a long password", "f2@example.com", agreement=True, scopes=SCOPES
        )
