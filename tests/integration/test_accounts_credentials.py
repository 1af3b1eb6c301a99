"""The signed-in user's own account: verify_credentials and update_credentials."""

from __future__ import annotations

from models.accounts import Account, Role
from models.relationships import Follow, FollowState
from tests.integration.accounts_support import (
    app_token,
    assert_credential_account_shape,
    bearer,
    make_user,
    user_token,
)

VERIFY = "/api/v1/accounts/verify_credentials"
UPDATE = "/api/v1/accounts/update_credentials"


async def test_verify_credentials_answers_a_typed_credential_account(client, settings):
    token = await user_token(await make_user(settings, "alice"))

    response = await client.get(VERIFY, headers=bearer(token))

    assert response.status_code == 200
    entity = await response.get_json()
    assert_credential_account_shape(entity)
    assert entity["acct"] == "alice"
    assert entity["source"]["privacy"] == "public"
    assert entity["role"]["id"] == "-99"


async def test_verify_credentials_shows_an_admin_role(client, settings):
    token = await user_token(await make_user(settings, "boss", role=Role.ADMIN))

    entity = await (await client.get(VERIFY, headers=bearer(token))).get_json()

    assert entity["role"]["name"] == "Admin"


async def test_verify_credentials_counts_pending_follow_requests(client, settings):
    alice = await make_user(settings, "alice")
    bob = await make_user(settings, "bob")
    await Follow.create(
        follower_id=bob.account_id, followee_id=alice.account_id, state=FollowState.PENDING
    )
    token = await user_token(alice)

    entity = await (await client.get(VERIFY, headers=bearer(token))).get_json()

    assert entity["source"]["follow_requests_count"] == 1


async def test_verify_credentials_without_a_token_is_401(client):
    response = await client.get(VERIFY)

    assert response.status_code == 401


async def test_verify_credentials_with_an_unknown_token_is_401(client):
    response = await client.get(VERIFY, headers=bearer("not-a-token"))

    assert response.status_code == 401


async def test_verify_credentials_with_an_app_only_token_is_401(client):
    response = await client.get(VERIFY, headers=bearer(await app_token()))

    assert response.status_code == 401


async def test_verify_credentials_without_read_scope_is_403(client, settings):
    token = await user_token(await make_user(settings), scopes="write")

    response = await client.get(VERIFY, headers=bearer(token))

    assert response.status_code == 403


async def test_verify_credentials_accepts_the_profile_scope(client, settings):
    token = await user_token(await make_user(settings), scopes="profile")

    response = await client.get(VERIFY, headers=bearer(token))

    assert response.status_code == 200


async def test_update_credentials_by_form_changes_the_profile(client, settings):
    token = await user_token(await make_user(settings, "alice"))

    response = await client.patch(
        UPDATE, form={"display_name": "Alice A.", "note": "Hi <b>there</b>"}, headers=bearer(token)
    )

    assert response.status_code == 200
    entity = await response.get_json()
    assert_credential_account_shape(entity)
    assert entity["display_name"] == "Alice A."
    assert entity["note"] == "<p>Hi &lt;b&gt;there&lt;/b&gt;</p>"
    assert entity["source"]["note"] == "Hi <b>there</b>"


async def test_update_credentials_by_json_changes_the_flags(client, settings):
    user = await make_user(settings, "alice")
    token = await user_token(user)

    response = await client.patch(
        UPDATE, json={"locked": True, "bot": True, "discoverable": False}, headers=bearer(token)
    )

    entity = await response.get_json()
    assert (entity["locked"], entity["bot"], entity["discoverable"]) == (True, True, False)
    account = await Account.get(id=user.account_id)
    assert (account.locked, account.bot, account.discoverable) == (True, True, False)


async def test_update_credentials_turns_newlines_into_paragraphs_and_breaks(client, settings):
    token = await user_token(await make_user(settings))

    response = await client.patch(UPDATE, json={"note": "one\ntwo\n\nthree"}, headers=bearer(token))

    assert (await response.get_json())["note"] == "<p>one<br>two</p><p>three</p>"


async def test_update_credentials_leaves_unsent_fields_alone(client, settings):
    token = await user_token(await make_user(settings))
    await client.patch(UPDATE, json={"display_name": "Kept", "locked": True}, headers=bearer(token))

    entity = await (
        await client.patch(UPDATE, json={"bot": True}, headers=bearer(token))
    ).get_json()

    assert (entity["display_name"], entity["locked"]) == ("Kept", True)


async def test_update_credentials_accepts_nested_source_fields(client, settings):
    token = await user_token(await make_user(settings))
    form = {"source[privacy]": "unlisted", "source[sensitive]": "true", "source[language]": "de"}

    response = await client.patch(UPDATE, form=form, headers=bearer(token))

    assert response.status_code == 200


async def test_update_credentials_rejects_a_display_name_over_30_characters(client, settings):
    token = await user_token(await make_user(settings))

    response = await client.patch(UPDATE, json={"display_name": "x" * 31}, headers=bearer(token))

    assert response.status_code == 422
    details = (await response.get_json())["details"]
    assert details["display_name"][0]["error"] == "ERR_TOO_LONG"


async def test_update_credentials_rejects_a_note_over_500_characters(client, settings):
    token = await user_token(await make_user(settings))

    response = await client.patch(UPDATE, json={"note": "x" * 501}, headers=bearer(token))

    assert response.status_code == 422
    assert (await response.get_json())["details"]["note"][0]["error"] == "ERR_TOO_LONG"


async def test_update_credentials_with_a_wrong_type_is_422_not_500(client, settings):
    token = await user_token(await make_user(settings))

    response = await client.patch(UPDATE, json={"locked": "maybe"}, headers=bearer(token))

    assert response.status_code == 422


async def test_update_credentials_with_a_read_only_token_is_403(client, settings):
    token = await user_token(await make_user(settings), scopes="read")

    response = await client.patch(UPDATE, json={"display_name": "Nope"}, headers=bearer(token))

    assert response.status_code == 403
