"""Parameters must be UTF-8 however they are sent: bytes that are not are a 400 with a JSON
error, in a form body, a multipart body and a query string alike, as in a JSON body."""

from __future__ import annotations

import pytest

from models.posts import Post
from tests.factories import bearer, make_user, token_for

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
BOUNDARY = "starling-test-boundary"
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def multipart(name: str, value: bytes) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


async def _headers(settings) -> dict[str, str]:
    return bearer(await token_for(await make_user(settings, "alice"), "write:statuses"))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"status": "\xff\xfe"}', {"Content-Type": "application/json"}),
        (b"status=%FF%FE", FORM),
        (b"status=\xff\xfe", FORM),
        (b"st%FFatus=hello", FORM),
        (multipart("status", b"\xff\xfe"), MULTIPART),
    ],
    ids=["json", "form-percent", "form-raw", "form-key", "multipart"],
)
async def test_a_post_whose_text_is_not_utf8_is_refused_with_400(
    client, settings, body, content_type
):
    headers = await _headers(settings)

    response = await client.post("/api/v1/statuses", data=body, headers={**headers, **content_type})

    assert response.status_code == 400
    assert "error" in await response.get_json()
    assert not await Post.exists()  # nothing stored, not even as U+FFFD


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"status=caf%C3%A9+au+lait", FORM),
        (multipart("status", "café au lait".encode()), MULTIPART),
    ],
    ids=["form", "multipart"],
)
async def test_utf8_forms_still_post(client, settings, body, content_type):
    headers = await _headers(settings)

    response = await client.post("/api/v1/statuses", data=body, headers={**headers, **content_type})

    assert response.status_code == 200
    assert "café au lait" in (await response.get_json())["content"]


async def test_a_query_string_that_is_not_utf8_is_refused_with_400(client):
    response = await client.get("/api/v1/accounts/lookup?acct=%FF%FE")

    assert response.status_code == 400
    assert (await response.get_json())["error"] == "The query string is not valid UTF-8"


async def test_a_utf8_query_string_is_read(client, settings):
    await make_user(settings, "alice")

    response = await client.get("/api/v1/accounts/lookup?acct=%61lice")

    assert response.status_code == 200
    assert (await response.get_json())["username"] == "alice"


async def test_a_get_that_sends_its_parameters_in_a_body_is_read(client, settings):
    # Some clients put a GET's parameters in a JSON body; a body its headers announce is read.
    await make_user(settings, "alice")

    response = await client.get("/api/v1/accounts/lookup", json={"acct": "alice"})

    assert response.status_code == 200
    assert (await response.get_json())["username"] == "alice"


async def test_a_broken_multipart_body_is_400(client, settings):
    headers = await _headers(settings)
    body = f"--{BOUNDARY}\r\nno headers end here".encode()

    response = await client.post("/api/v1/statuses", data=body, headers={**headers, **MULTIPART})

    assert response.status_code == 400
