"""HTTP signatures against the published test vectors (draft-cavage-http-signatures-12 Appendix C,
RFC 9421 Appendix B), against tampering, and in round trips through our own signer."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from werkzeug.datastructures import Headers

from activitypub.errors import SignatureError
from activitypub.keys import KeyPair, generate_key_pair
from activitypub.signatures import (
    HttpSigner,
    RequestSignature,
    check_request,
    content_digest_header,
    digest_header,
    read_signature,
    sign_headers,
    sign_headers_rfc9421,
    signature_header,
    verify_signature,
)

FIXTURES = Path(__file__).parent / "fixtures" / "signatures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


# --- draft-cavage-http-signatures-12, Appendix C -------------------------------------------------

CAVAGE_PUBLIC = fixture("cavage-test-public.pem")
CAVAGE_PRIVATE = fixture("cavage-test-private.pem")
CAVAGE_URL = "https://example.com/foo?param=value&pet=dog"
CAVAGE_BODY = b'{"hello": "world"}'
CAVAGE_DATE = datetime(2014, 1, 5, 21, 31, 40, tzinfo=UTC)
CAVAGE_HEADERS = {
    "Host": "example.com",
    "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
    "Content-Type": "application/json",
    "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
    "Content-Length": "18",
}
# C.1 Default Test: no headers parameter, so the Date header alone is signed.
C1_SIGNATURE = (
    "SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7q25"
    "WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM="
)
C1_HEADER = f'keyId="Test",algorithm="rsa-sha256",signature="{C1_SIGNATURE}"'
C1_BASE = b"date: Sun, 05 Jan 2014 21:31:40 GMT"
# C.2 Basic Test.
C2_SIGNATURE = (
    "qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8Vf"
    "EdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="
)
C2_HEADER = (
    'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",'
    f'signature="{C2_SIGNATURE}"'
)
C2_BASE = (
    b"(request-target): post /foo?param=value&pet=dog\n"
    b"host: example.com\n"
    b"date: Sun, 05 Jan 2014 21:31:40 GMT"
)
# C.3 All Headers Test, over the headers its signature value actually signs. (draft-12 added
# (created) and (expires) to this example's list without re-computing the value: see
# test_draft_12_all_headers_example_is_refused_for_created_with_rsa_sha256.)
C3_SIGNATURE = (
    "vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEUHFv"
    "120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="
)
C3_COVERED = ("(request-target)", "host", "date", "content-type", "digest", "content-length")
C3_HEADER = (
    f'keyId="Test",algorithm="rsa-sha256",headers="{" ".join(C3_COVERED)}",'
    f'signature="{C3_SIGNATURE}"'
)
C3_BASE = (
    b"(request-target): post /foo?param=value&pet=dog\n"
    b"host: example.com\n"
    b"date: Sun, 05 Jan 2014 21:31:40 GMT\n"
    b"content-type: application/json\n"
    b"digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\n"
    b"content-length: 18"
)
# C.3 exactly as draft-12 prints it.
C3_DRAFT_12_HEADER = (
    'keyId="Test",algorithm="rsa-sha256",created=1402170695, expires=1402170699,'
    'headers="(request-target) (created) (expires) host date content-type digest content-length",'
    f'signature="{C3_SIGNATURE}"'
)


def cavage(header: str, *, url: str = CAVAGE_URL, **changes: str) -> RequestSignature:
    """Read the Appendix C request carrying ``header`` as its Signature."""
    return read_signature("POST", url, {**CAVAGE_HEADERS, **changes, "Signature": header})


def test_cavage_test_private_key_matches_its_public_key() -> None:
    private = serialization.load_pem_private_key(CAVAGE_PRIVATE.encode(), None)
    public = serialization.load_pem_public_key(CAVAGE_PUBLIC.encode())
    assert isinstance(private, rsa.RSAPrivateKey)
    assert isinstance(public, rsa.RSAPublicKey)
    assert private.public_key().public_numbers() == public.public_numbers()


def test_cavage_default_test_signs_the_date_alone() -> None:
    headers = {**CAVAGE_HEADERS, "Authorization": f"Signature {C1_HEADER}"}
    sig = read_signature("POST", CAVAGE_URL, headers)
    assert (sig.covered, sig.base) == (("date",), C1_BASE)


def test_cavage_default_test_signature_verifies() -> None:
    headers = {**CAVAGE_HEADERS, "Authorization": f"Signature {C1_HEADER}"}
    verify_signature(read_signature("POST", CAVAGE_URL, headers), CAVAGE_PUBLIC)


def test_cavage_basic_test_signing_string_is_the_drafts() -> None:
    assert cavage(C2_HEADER).base == C2_BASE


def test_cavage_basic_test_signature_verifies() -> None:
    verify_signature(cavage(C2_HEADER), CAVAGE_PUBLIC)


def test_cavage_all_headers_test_signing_string_is_the_drafts() -> None:
    assert cavage(C3_HEADER).base == C3_BASE


def test_cavage_all_headers_test_signature_verifies() -> None:
    verify_signature(cavage(C3_HEADER), CAVAGE_PUBLIC)


def test_cavage_all_headers_test_passes_the_request_policy() -> None:
    check_request(cavage(C3_HEADER), "POST", CAVAGE_HEADERS, CAVAGE_BODY, now=CAVAGE_DATE)


@pytest.mark.parametrize(
    ("covered", "published"),
    [
        (("date",), C1_SIGNATURE),
        (("(request-target)", "host", "date"), C2_SIGNATURE),
        (C3_COVERED, C3_SIGNATURE),
    ],
    ids=["C.1", "C.2", "C.3"],
)
def test_our_signer_reproduces_the_cavage_signatures(
    covered: tuple[str, ...], published: str
) -> None:
    header = signature_header(
        "POST", CAVAGE_URL, CAVAGE_HEADERS, covered, key_id="Test", private_key_pem=CAVAGE_PRIVATE
    )
    assert header.endswith(f'signature="{published}"')


def test_draft_12_all_headers_example_is_refused_for_created_with_rsa_sha256() -> None:
    # draft-12 §2.3: (created) with an rsa-* algorithm is an error (Mastodon refuses it too).
    with pytest.raises(SignatureError, match="created"):
        cavage(C3_DRAFT_12_HEADER)


def test_digest_header_is_the_drafts_for_its_body() -> None:
    assert digest_header(CAVAGE_BODY) == CAVAGE_HEADERS["Digest"]


# --- RFC 9421, Appendix B ------------------------------------------------------------------------

PSS_PUBLIC = fixture("rfc9421-test-key-rsa-pss-public.pem")
PSS_PRIVATE = fixture("rfc9421-test-key-rsa-pss-private.pem")
ED25519_PUBLIC = fixture("rfc9421-test-key-ed25519-public.pem")
ED25519_PRIVATE = fixture("rfc9421-test-key-ed25519-private.pem")
RFC_URL = "https://example.com/foo?param=Value&Pet=dog"
RFC_BODY = b'{"hello": "world"}'
RFC_CREATED = datetime.fromtimestamp(1618884473, UTC)
RFC_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": (
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJ"
        "wew==:"
    ),
    "Content-Length": "18",
}
# B.2.1 Minimal Signature Using rsa-pss-sha512 (no alg: the key decides).
B21_INPUT = 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
B21_SIGNATURE = (
    "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbt"
    "Rxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2VjBq"
    "JzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s+"
    "+v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:"
)
B21_BASE = (
    b'"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";'
    b'nonce="b3k2pp5k7z-50gnwp.yemd"'
)
# B.2.2 Selective Covered Components: "@query-param";name="Pet" is a component with a parameter.
B22_INPUT = (
    'sig-b22=("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;'
    'keyid="test-key-rsa-pss";tag="header-example"'
)
B22_SIGNATURE = (
    "sig-b22=:LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4CDfKtjvuJy"
    "E5qH7KT8UCMkSowOB4+ECxCmT8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLEuEfY17SARYhpT"
    "laqwZVtR8NV7+4UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U/lankenQ99PZfB4jY3I5rSV2DSBVkS"
    "FsURIjYErOs0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEjHSw==:"
)
# B.2.3 Full Coverage using rsa-pss-sha512.
B23_INPUT = (
    'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" '
    '"content-length");created=1618884473;keyid="test-key-rsa-pss"'
)
B23_SIGNATURE = (
    "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+qR"
    "pRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pFkh/"
    "aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+QIF"
    "61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==:"
)
B23_BASE = (
    b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    b'"@method": POST\n'
    b'"@path": /foo\n'
    b'"@query": ?param=Value&Pet=dog\n'
    b'"@authority": example.com\n'
    b'"content-type": application/json\n'
    b'"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNy'
    b"ealdVLvRwEmTHWXvJwew==:\n"
    b'"content-length": 18\n'
    b'"@signature-params": ("date" "@method" "@path" "@query" "@authority" "content-type" '
    b'"content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"'
)
# B.2.6 Signing a Request Using ed25519 (deterministic).
B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");'
    'created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE_VALUE = (
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
)
B26_SIGNATURE = f"sig-b26=:{B26_SIGNATURE_VALUE}:"
B26_BASE = (
    b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    b'"@method": POST\n'
    b'"@path": /foo\n'
    b'"@authority": example.com\n'
    b'"content-type": application/json\n'
    b'"content-length": 18\n'
    b'"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    b'"content-length");created=1618884473;keyid="test-key-ed25519"'
)


def rfc9421(signature_input: str, signature: str, **changes: str) -> RequestSignature:
    """Read the Appendix B.2 request carrying this Signature-Input and Signature."""
    headers = {**RFC_HEADERS, **changes, "Signature-Input": signature_input, "Signature": signature}
    return read_signature("POST", RFC_URL, headers)


def test_rfc9421_ed25519_test_private_key_matches_its_public_key() -> None:
    private = serialization.load_pem_private_key(ED25519_PRIVATE.encode(), None)
    public = serialization.load_pem_public_key(ED25519_PUBLIC.encode())
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    assert isinstance(public, ed25519.Ed25519PublicKey)
    raw = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert private.public_key().public_bytes(*raw) == public.public_bytes(*raw)


def test_rfc9421_rsa_pss_test_private_key_matches_its_public_key() -> None:
    private = serialization.load_pem_private_key(PSS_PRIVATE.encode(), None)
    public = serialization.load_pem_public_key(PSS_PUBLIC.encode())
    assert isinstance(private, rsa.RSAPrivateKey)
    assert isinstance(public, rsa.RSAPublicKey)
    assert private.public_key().public_numbers() == public.public_numbers()


def test_rfc9421_b26_signature_base_is_the_rfcs() -> None:
    assert rfc9421(B26_INPUT, B26_SIGNATURE).base == B26_BASE


def test_rfc9421_b26_ed25519_signature_verifies() -> None:
    verify_signature(rfc9421(B26_INPUT, B26_SIGNATURE), ED25519_PUBLIC)


def test_rfc9421_b26_signature_is_reproduced_from_our_base() -> None:
    key = serialization.load_pem_private_key(ED25519_PRIVATE.encode(), None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    base = rfc9421(B26_INPUT, B26_SIGNATURE).base
    assert base64.b64encode(key.sign(base)).decode() == B26_SIGNATURE_VALUE


def test_rfc9421_b21_minimal_signature_base_is_the_rfcs() -> None:
    sig = rfc9421(B21_INPUT, B21_SIGNATURE)
    assert (sig.base, sig.covered, sig.algorithm) == (B21_BASE, (), None)


def test_rfc9421_b21_rsa_pss_signature_verifies_without_alg() -> None:
    verify_signature(rfc9421(B21_INPUT, B21_SIGNATURE), PSS_PUBLIC)


def test_rfc9421_b23_full_coverage_base_is_the_rfcs() -> None:
    assert rfc9421(B23_INPUT, B23_SIGNATURE).base == B23_BASE


def test_rfc9421_b23_rsa_pss_signature_verifies() -> None:
    verify_signature(rfc9421(B23_INPUT, B23_SIGNATURE), PSS_PUBLIC)


def test_rfc9421_b23_passes_the_request_policy_with_a_sha512_content_digest() -> None:
    sig = rfc9421(B23_INPUT, B23_SIGNATURE)
    check_request(sig, "POST", RFC_HEADERS, RFC_BODY, now=RFC_CREATED)


def test_rfc9421_b22_component_parameters_are_refused() -> None:
    with pytest.raises(SignatureError, match="parameters"):
        rfc9421(B22_INPUT, B22_SIGNATURE)


def test_rfc9421_declared_rsa_pss_sha512_verifies() -> None:
    # Given the B.2.1 signature parameters with alg declared, signed with the B.1.2 private key
    signature_input = B21_INPUT + ';alg="rsa-pss-sha512"'
    base = rfc9421(signature_input, B21_SIGNATURE).base
    key = serialization.load_pem_private_key(PSS_PRIVATE.encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    pss = padding.PSS(padding.MGF1(hashes.SHA512()), 64)
    value = base64.b64encode(key.sign(base, pss, hashes.SHA512())).decode()
    # When it is read back, Then it verifies with the public key
    verify_signature(rfc9421(signature_input, f"sig-b21=:{value}:"), PSS_PUBLIC)


def test_content_digest_header_is_rfc_9530s_for_its_body() -> None:
    assert (
        content_digest_header(RFC_BODY) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    )


# --- round trips ---------------------------------------------------------------------------------

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
INBOX = "https://remote.example/users/bob/inbox"
KEY_ID = "https://starling.example/users/alice#main-key"
BODY = b'{"type": "Create", "actor": "https://starling.example/users/alice"}'


@pytest.fixture(scope="module")
def alice() -> KeyPair:
    return generate_key_pair()


@pytest.fixture(scope="module")
def mallory() -> KeyPair:
    return generate_key_pair()


def signed(
    keys: KeyPair,
    method: str = "POST",
    url: str = INBOX,
    body: bytes | None = BODY,
    *,
    now: datetime = NOW,
    signer: Callable[..., dict[str, str]] = sign_headers,
) -> dict[str, str]:
    """Request headers as our signer sends them."""
    headers = {"Content-Type": "application/activity+json"}
    added = signer(
        method, url, headers, body, key_id=KEY_ID, private_key_pem=keys.private_pem, now=now
    )
    return {**headers, **added}


def accept(
    method: str, url: str, headers: Mapping[str, str], body: bytes | None, public_pem: str
) -> None:
    """What our inbox does: read, verify, apply the policy."""
    sig = read_signature(method, url, headers)
    verify_signature(sig, public_pem)
    check_request(sig, method, headers, body, now=NOW)


def test_signed_post_round_trips(alice: KeyPair) -> None:
    accept("POST", INBOX, signed(alice), BODY, alice.public_pem)


def test_signed_get_round_trips(alice: KeyPair) -> None:
    url = "https://remote.example/users/bob/outbox?page=true"
    accept("GET", url, signed(alice, "GET", url, None), None, alice.public_pem)


def test_signed_post_covers_what_mastodon_requires(alice: KeyPair) -> None:
    headers = signed(alice)
    assert 'headers="(request-target) host date digest"' in headers["Signature"]
    assert headers["Signature"].startswith(f'keyId="{KEY_ID}",algorithm="rsa-sha256",')
    assert (headers["Host"], headers["Date"]) == ("remote.example", "Sat, 01 Mar 2025 12:00:00 GMT")
    assert headers["Digest"] == digest_header(BODY)


def test_signed_get_covers_target_host_and_date(alice: KeyPair) -> None:
    headers = signed(alice, "GET", INBOX, None)
    assert 'headers="(request-target) host date"' in headers["Signature"]
    assert "Digest" not in headers


def test_host_header_keeps_a_non_default_port(alice: KeyPair) -> None:
    assert signed(alice, url="https://Remote.Example:8443/inbox")["Host"] == "remote.example:8443"


def test_rfc9421_signed_post_round_trips(alice: KeyPair) -> None:
    headers = signed(alice, signer=sign_headers_rfc9421)
    accept("POST", INBOX, headers, BODY, alice.public_pem)


def test_rfc9421_signed_get_round_trips(alice: KeyPair) -> None:
    headers = signed(alice, "GET", INBOX, None, signer=sign_headers_rfc9421)
    accept("GET", INBOX, headers, None, alice.public_pem)


def test_rfc9421_signer_covers_target_authority_digest_and_date(alice: KeyPair) -> None:
    headers = signed(alice, signer=sign_headers_rfc9421)
    assert headers["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "@authority" "content-digest" "date");'
        f'created={int(NOW.timestamp())};keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    )
    assert headers["Content-Digest"] == content_digest_header(BODY)


def test_http_signer_signs_what_httpx_sends(alice: KeyPair) -> None:
    refusals: list[str] = []

    def inbox(request: httpx.Request) -> httpx.Response:
        try:
            sig = read_signature(request.method, str(request.url), request.headers)
            verify_signature(sig, alice.public_pem)
            check_request(sig, request.method, request.headers, request.content)
        except SignatureError as exc:
            refusals.append(exc.message)
            return httpx.Response(401)
        return httpx.Response(202)

    auth = HttpSigner(KEY_ID, alice.private_pem)
    with httpx.Client(transport=httpx.MockTransport(inbox), auth=auth) as client:
        statuses = [
            client.post(INBOX, content=BODY).status_code,
            client.get("https://remote.example/users/bob?x=1").status_code,
        ]
    assert (statuses, refusals) == ([202, 202], [])


def test_key_id_is_kept_verbatim(alice: KeyPair) -> None:
    # GoToSocial's key ids are plain URLs ending in /main-key, no fragment.
    key_id = "https://gts.example/users/bob/main-key"
    headers = sign_headers(
        "POST", INBOX, {}, BODY, key_id=key_id, private_key_pem=alice.private_pem, now=NOW
    )
    assert read_signature("POST", INBOX, headers).key_id == key_id


def test_header_names_are_case_insensitive(alice: KeyPair) -> None:
    headers = {name.upper(): value for name, value in signed(alice).items()}
    accept("POST", INBOX, headers, BODY, alice.public_pem)


def test_werkzeug_headers_are_accepted(alice: KeyPair) -> None:
    headers = Headers(signed(alice))
    accept("POST", INBOX, headers, BODY, alice.public_pem)  # type: ignore[arg-type]


def test_hs2019_with_an_rsa_key_verifies_as_rsa_sha256(alice: KeyPair) -> None:
    # GoToSocial sends algorithm="hs2019" with RSA keys.
    headers = signed(alice)
    headers["Signature"] = headers["Signature"].replace("rsa-sha256", "hs2019")
    accept("POST", INBOX, headers, BODY, alice.public_pem)


def test_hs2019_created_stands_in_for_the_date_header(alice: KeyPair) -> None:
    created = int(NOW.timestamp())
    headers = {"Host": "remote.example", "Digest": digest_header(BODY)}
    value = sign_custom(
        alice,
        headers,
        f'keyId="{KEY_ID}",algorithm="hs2019",created={created},'
        'headers="(request-target) (created) host digest"',
    )
    accept("POST", INBOX, {**headers, "Signature": value}, BODY, alice.public_pem)


def sign_custom(keys: KeyPair, headers: dict[str, str], params: str, url: str = INBOX) -> str:
    """A draft-cavage Signature with hand-written parameters, signed over the base we build."""
    draft = read_signature("POST", url, {**headers, "Signature": f'{params},signature="AA=="'})
    key = serialization.load_pem_private_key(keys.private_pem.encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    value = base64.b64encode(key.sign(draft.base, padding.PKCS1v15(), hashes.SHA256())).decode()
    return f'{params},signature="{value}"'


def test_request_target_signed_without_its_query_still_verifies(alice: KeyPair) -> None:
    # Fedify and some Mastodon versions sign (request-target) without the query string.
    url = "https://remote.example/users/bob/outbox?page=true"
    headers = signed(alice, "GET", url.split("?")[0], None)
    accept("GET", url, headers, None, alice.public_pem)


def test_first_supported_rfc9421_signature_is_chosen(alice: KeyPair) -> None:
    headers = signed(alice, signer=sign_headers_rfc9421)
    headers["Signature-Input"] = (
        'hmac=("@method");created=1;keyid="shared";alg="hmac-sha256", ' + headers["Signature-Input"]
    )
    headers["Signature"] = "hmac=:AAAA:, " + headers["Signature"]
    accept("POST", INBOX, headers, BODY, alice.public_pem)


def test_sha512_digest_is_accepted(alice: KeyPair) -> None:
    digest = "SHA-512=" + base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    accept("POST", INBOX, digest_signed(alice, digest), BODY, alice.public_pem)


def digest_signed(keys: KeyPair, digest: str) -> dict[str, str]:
    """A signed POST whose (signed) Digest header is ``digest``."""
    headers = signed(keys)
    headers["Digest"] = digest
    headers["Signature"] = signature_header(
        "POST",
        INBOX,
        headers,
        ("(request-target)", "host", "date", "digest"),
        key_id=KEY_ID,
        private_key_pem=keys.private_pem,
    )
    return headers


# --- tampering and garbage -----------------------------------------------------------------------


def test_tampered_body_is_refused(alice: KeyPair) -> None:
    headers = signed(alice)
    sig = read_signature("POST", INBOX, headers)
    verify_signature(sig, alice.public_pem)
    with pytest.raises(SignatureError, match="does not match the body"):
        check_request(sig, "POST", headers, BODY + b" ", now=NOW)


def test_tampered_content_digest_body_is_refused(alice: KeyPair) -> None:
    headers = signed(alice, signer=sign_headers_rfc9421)
    sig = read_signature("POST", INBOX, headers)
    with pytest.raises(SignatureError, match="does not match the body"):
        check_request(sig, "POST", headers, b"{}", now=NOW)


def test_tampered_signed_header_is_refused() -> None:
    sig = cavage(C3_HEADER, **{"Content-Type": "text/plain"})
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(sig, CAVAGE_PUBLIC)


def test_tampered_path_is_refused() -> None:
    sig = cavage(C2_HEADER, url="https://example.com/bar?param=value&pet=dog")
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(sig, CAVAGE_PUBLIC)


def test_tampered_rfc9421_component_is_refused() -> None:
    sig = rfc9421(B26_INPUT, B26_SIGNATURE, **{"Content-Length": "19"})
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(sig, ED25519_PUBLIC)


def test_date_13_hours_old_is_refused(alice: KeyPair) -> None:
    headers = signed(alice, now=NOW - timedelta(hours=13))
    sig = read_signature("POST", INBOX, headers)
    with pytest.raises(SignatureError, match="too old"):
        check_request(sig, "POST", headers, BODY, now=NOW)


def test_date_13_hours_ahead_is_refused(alice: KeyPair) -> None:
    headers = signed(alice, now=NOW + timedelta(hours=13))
    sig = read_signature("POST", INBOX, headers)
    with pytest.raises(SignatureError, match="future"):
        check_request(sig, "POST", headers, BODY, now=NOW)


def test_date_11_hours_old_is_accepted(alice: KeyPair) -> None:
    headers = signed(alice, now=NOW - timedelta(hours=11))
    check_request(read_signature("POST", INBOX, headers), "POST", headers, BODY, now=NOW)


def test_rfc9421_created_13_hours_old_is_refused(alice: KeyPair) -> None:
    headers = signed(alice, now=NOW - timedelta(hours=13), signer=sign_headers_rfc9421)
    sig = read_signature("POST", INBOX, headers)
    with pytest.raises(SignatureError, match="too old"):
        check_request(sig, "POST", headers, BODY, now=NOW)


def test_expired_signature_is_refused() -> None:
    # B.2.6 with expires= one second after created, checked a minute later.
    signature_input = B26_INPUT + ";expires=1618884474"
    sig = rfc9421(signature_input, B26_SIGNATURE)
    with pytest.raises(SignatureError, match="expired"):
        check_request(sig, "POST", RFC_HEADERS, b"", now=RFC_CREATED + timedelta(minutes=1))


def test_signature_checked_against_another_key_is_refused(alice: KeyPair, mallory: KeyPair) -> None:
    sig = read_signature("POST", INBOX, signed(mallory))
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(sig, alice.public_pem)


def test_rfc9421_signature_checked_against_a_key_of_another_type_is_refused() -> None:
    with pytest.raises(SignatureError):
        verify_signature(rfc9421(B23_INPUT, B23_SIGNATURE), ED25519_PUBLIC)


def test_post_signature_without_digest_is_refused() -> None:
    with pytest.raises(SignatureError, match="Digest"):
        check_request(cavage(C2_HEADER), "POST", CAVAGE_HEADERS, CAVAGE_BODY, now=CAVAGE_DATE)


def test_signature_covering_only_the_date_is_refused() -> None:
    with pytest.raises(SignatureError, match="request target"):
        check_request(cavage(C1_HEADER), "GET", CAVAGE_HEADERS, None, now=CAVAGE_DATE)


def test_signature_without_host_is_refused(alice: KeyPair) -> None:
    headers = signed(alice, "GET", INBOX, None)
    headers["Signature"] = signature_header(
        "GET",
        INBOX,
        headers,
        ("(request-target)", "date"),
        key_id=KEY_ID,
        private_key_pem=alice.private_pem,
    )
    with pytest.raises(SignatureError, match="Host"):
        check_request(read_signature("GET", INBOX, headers), "GET", headers, None, now=NOW)


def test_digest_with_only_unknown_algorithms_is_refused(alice: KeyPair) -> None:
    headers = digest_signed(alice, "MD5=Sd/dVLAcvNLSq16eXua5uQ==")
    sig = read_signature("POST", INBOX, headers)
    with pytest.raises(SignatureError, match="no SHA-256"):
        check_request(sig, "POST", headers, BODY, now=NOW)


def test_every_known_digest_must_match(alice: KeyPair) -> None:
    wrong = "SHA-512=" + base64.b64encode(bytes(64)).decode()
    headers = digest_signed(alice, f"{digest_header(BODY)}, {wrong}")
    sig = read_signature("POST", INBOX, headers)
    with pytest.raises(SignatureError, match="sha-512"):
        check_request(sig, "POST", headers, BODY, now=NOW)


def test_missing_signature_header_is_refused() -> None:
    with pytest.raises(SignatureError, match="not signed"):
        read_signature("POST", CAVAGE_URL, CAVAGE_HEADERS)


def test_unsupported_algorithm_is_refused() -> None:
    with pytest.raises(SignatureError, match="unsupported"):
        cavage(C2_HEADER.replace("rsa-sha256", "hmac-sha256"))


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "",
        'keyId="Test"',
        'signature="AAAA"',
        'keyId="Test",signature="not base64!"',
        'keyId="Test",keyId="Other",signature="AAAA"',
        'keyId="Test",headers="",signature="AAAA"',
        'keyId="Test",headers="(request-target) x-missing",signature="AAAA"',
        'keyId="Test",headers="(nonsense)",signature="AAAA"',
        'keyId="Test",algorithm="hs2019",headers="(created)",signature="AAAA"',
        'keyId="Test",algorithm="hs2019",created=soon,headers="(created)",signature="AAAA"',
        'keyId="Test,signature="AAAA"',
        'keyId="Test",signature="AAAA" trailing',
        'keyId="Test",signature="AA\u00e9="',
    ],
)
def test_garbage_signature_header_is_refused(value: str) -> None:
    with pytest.raises(SignatureError):
        read_signature("POST", CAVAGE_URL, {**CAVAGE_HEADERS, "Signature": value})


@pytest.mark.parametrize(
    "value",
    [
        "garbage(",
        "",
        'sig1=("@method"',
        'sig1=("@method");created=abc;keyid="k"',
        'sig1=("@method");created;keyid="k"',
        'sig1=("@method");keyid=token',
        'sig1=("@method");created=1',
        "sig1=:AAAA:",
        'sig1=(@method);keyid="k"',
        'sig1=("@Method");keyid="k"',
        'sig1=("@method" "@method");keyid="k"',
        'sig1=("@signature-params");keyid="k"',
        'sig1=("@status");keyid="k"',
        'sig1=("@query-param";name="x");keyid="k"',
        'sig1=("content-digest";sf);keyid="k"',
        'sig1=("x-missing");keyid="k"',
        'sig1=("@method");keyid="k", ',
        'other=("@method");keyid="k"',
        'Sig1=("@method");keyid="k"',
        'sig1=("@method");keyid="k";alg="rsa-sha1"',
        'sig1=("@method");keyid="k\u00e9"',
    ],
)
def test_garbage_signature_input_is_refused(value: str) -> None:
    headers = {**RFC_HEADERS, "Signature-Input": value, "Signature": "sig1=:AAAA:"}
    with pytest.raises(SignatureError):
        read_signature("POST", RFC_URL, headers)


@pytest.mark.parametrize("value", ["garbage", "sig1=AAAA", "sig1=:not base64!:", "sig1=:AAAA"])
def test_garbage_rfc9421_signature_value_is_refused(value: str) -> None:
    headers = {**RFC_HEADERS, "Signature-Input": B26_INPUT.replace("sig-b26", "sig1")}
    with pytest.raises(SignatureError):
        read_signature("POST", RFC_URL, {**headers, "Signature": value})


@pytest.mark.parametrize(
    "digest",
    ["SHA-256", "SHA-256=not base64!", "sha-256=:AAAA:", ""],
    ids=["bare", "b64", "sf", "empty"],
)
def test_garbage_digest_header_is_refused(alice: KeyPair, digest: str) -> None:
    headers = digest_signed(alice, digest)
    sig = read_signature("POST", INBOX, headers)
    with pytest.raises(SignatureError):
        check_request(sig, "POST", headers, BODY, now=NOW)


@pytest.mark.parametrize(
    "pem", ["", "garbage", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"]
)
def test_unusable_public_key_is_refused(pem: str) -> None:
    with pytest.raises(SignatureError):
        verify_signature(cavage(C2_HEADER), pem)


def test_malformed_target_uri_is_refused() -> None:
    with pytest.raises(SignatureError, match="target URI"):
        read_signature("POST", "https://example.com:port/foo", {"Signature": C2_HEADER})


def test_garbage_date_header_is_refused() -> None:
    sig = cavage(C3_HEADER, Date="yesterday")
    with pytest.raises(SignatureError, match="Date"):
        check_request(sig, "POST", {**CAVAGE_HEADERS, "Date": "yesterday"}, CAVAGE_BODY)
