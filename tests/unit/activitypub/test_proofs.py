"""Object Integrity Proofs (FEP-8b32, eddsa-jcs-2022): published vectors first, then our rules.

Where the vectors come from:
- W3C "Data Integrity EdDSA Cryptosuites v1.0" (Recommendation, 15 May 2025), Appendix B.3
  "Representation: eddsa-jcs-2022", Examples 29-39 (w3c/vc-di-eddsa, transitions/2025/REC).
- FEP-8b32 ``fep-8b32.feature`` (codeberg fediverse/fep, as mirrored on GitHub): the current signed
  activity, and the earlier one whose proof carries no ``@context``.
- Fedify ``packages/fedify/src/sig/proof.test.ts``: its FEP-8b32 vector, the same key as a JWK,
  and a Follow signed by a live Fedify server (wizard.casa).
- FEP-521a ``fep-521a.feature``: an Ed25519 and an RSA Multikey.
- RFC 8785 sections 3.2.2-3.2.4 and Appendix B; Bitcoin Core
  ``src/test/data/base58_encode_decode.json``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import random
import struct
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from activitypub.proofs import (
    ProofError,
    b58decode,
    b58encode,
    canonicalize,
    ed25519_to_multikey,
    multikey_to_ed25519,
    proof_of,
    sign_document,
    verify_proof,
)

# --- The test key pair ---------------------------------------------------------------------
# W3C Example 29 (and TestVectors/keyPair.json), the FEP-8b32 feature's actor, the FEP-521a
# example actor: one key pair, published in all of them.
PUBLIC_MULTIBASE = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
SECRET_MULTIBASE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
# The same key as Fedify's tests import it (JWK, base64url).
FEDIFY_JWK_X = "sA2Nk45_dz1RVlqtNqYj9TRPf10ZYPnPPo4SYg6igQ8"
FEDIFY_JWK_D = "yW756hDF5BTEcXI6_53nLDX6W3D66X6IMuysfS4rjtY"
ED25519_PRIV_CODEC = b"\x80\x26"  # multicodec ed25519-priv (0x1300) as a varint

KEY_ID = "https://server.example/users/alice#ed25519-key"
CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)


def published_private_key() -> Ed25519PrivateKey:
    """The private key of the published secretKeyMultibase (multicodec 0x1300 + 32-byte seed)."""
    raw = b58decode(SECRET_MULTIBASE[1:])
    assert raw[:2] == ED25519_PRIV_CODEC
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


def published_public_key() -> Ed25519PublicKey:
    return multikey_to_ed25519(PUBLIC_MULTIBASE)


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- W3C vc-di-eddsa REC, Appendix B.3 -----------------------------------------------------
W3C_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2",
]
W3C_CREDENTIAL: dict[str, Any] = {  # Example 30
    "@context": W3C_CONTEXT,
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
W3C_CANONICAL_CREDENTIAL = (  # Example 31
    '{"@context":["https://www.w3.org/ns/credentials/v2",'
    '"https://www.w3.org/ns/credentials/examples/v2"],'
    '"credentialSubject":{"alumniOf":"The School of Examples","id":"did:example:abcdefgh"},'
    '"description":"A minimum viable example of an Alumni Credential.",'
    '"id":"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",'
    '"issuer":"https://vc.example/issuers/5678","name":"Alumni Credential",'
    '"type":["VerifiableCredential","AlumniCredential"],"validFrom":"2023-01-01T00:00:00Z"}'
)
W3C_CREDENTIAL_HASH = "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"  # Ex. 32
W3C_VERIFICATION_METHOD = f"did:key:{PUBLIC_MULTIBASE}#{PUBLIC_MULTIBASE}"
W3C_PROOF_OPTIONS: dict[str, Any] = {  # Example 33
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "created": "2023-02-24T23:36:38Z",
    "verificationMethod": W3C_VERIFICATION_METHOD,
    "proofPurpose": "assertionMethod",
    "@context": W3C_CONTEXT,
}
W3C_CANONICAL_PROOF_OPTIONS = (  # Example 34
    '{"@context":["https://www.w3.org/ns/credentials/v2",'
    '"https://www.w3.org/ns/credentials/examples/v2"],"created":"2023-02-24T23:36:38Z",'
    '"cryptosuite":"eddsa-jcs-2022","proofPurpose":"assertionMethod",'
    '"type":"DataIntegrityProof","verificationMethod":'
    f'"{W3C_VERIFICATION_METHOD}"}}'
)
W3C_PROOF_OPTIONS_HASH = (
    "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db"  # Ex. 35
)
W3C_SIGNATURE_HEX = (  # Example 37
    "407cd12654b33d718ecbb99179a1506daaa849450bf3fc523cce3e1c96f8b803"
    "51da3f253d725c6f00b07c9e5448d50b3ef78012b9ab54255116d069c6dd2808"
)
W3C_PROOF_VALUE = (  # Example 38
    "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
)


def w3c_signed_credential() -> dict[str, Any]:
    """Example 39: the credential with the proof options and proofValue as ``proof``."""
    return copy.deepcopy(
        {**W3C_CREDENTIAL, "proof": {**W3C_PROOF_OPTIONS, "proofValue": W3C_PROOF_VALUE}}
    )


# --- FEP-8b32 feature (current): data-integrity/v2, the proof carries @context --------------
AS_DI_V2 = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/data-integrity/v2"]
AS_DI_V1 = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/data-integrity/v1"]
FEP_PROOF_VALUE = (
    "z42ffGu6AUKPCFcFPiabmUvnGLPJzC7e4DGWC52NUasSSH37UMa9c58tdgVszUcZfytxa4fQ5TYHaJENCxUDe9SdL"
)
# Fedify's FEP-8b32 vector: the same activity with the data-integrity/v1 context.
FEDIFY_PROOF_VALUE = (
    "zLaewdp4H9kqtwyrLatK4cjY5oRHwVcw4gibPSUDYDMhi4M49v8pcYk3ZB6D69dNpAPbUmY8ocuJ3m9KhKJEEg7z"
)


def fep_activity(context: list[str] = AS_DI_V2) -> dict[str, Any]:
    """The unsigned Create of the FEP-8b32 feature ("Signing document")."""
    return {
        "@context": list(context),
        "id": "https://server.example/activities/1",
        "type": "Create",
        "actor": "https://server.example/users/alice",
        "object": {
            "id": "https://server.example/objects/1",
            "type": "Note",
            "attributedTo": "https://server.example/users/alice",
            "content": "Hello world",
            "location": {"type": "Place", "longitude": -71.184902, "latitude": 25.273962},
        },
    }


def fep_signed_activity() -> dict[str, Any]:
    """The FEP-8b32 feature's "The signed document is"."""
    return {
        **fep_activity(),
        "proof": {
            "@context": list(AS_DI_V2),
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "verificationMethod": KEY_ID,
            "proofPurpose": "assertionMethod",
            "proofValue": FEP_PROOF_VALUE,
            "created": "2023-02-24T23:36:38Z",
        },
    }


def fedify_signed_activity(*, proof_context: bool) -> dict[str, Any]:
    """Fedify's signObject() output for its FEP-8b32 vector; verifyObject() also gets it bare."""
    proof: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": KEY_ID,
        "proofPurpose": "assertionMethod",
        "proofValue": FEDIFY_PROOF_VALUE,
        "created": "2023-02-24T23:36:38Z",
    }
    if proof_context:
        proof = {"@context": list(AS_DI_V1), **proof}
    return {**fep_activity(AS_DI_V1), "proof": proof}


def early_fep_signed_activity() -> dict[str, Any]:
    """The earlier FEP-8b32 feature (and Fedify 0.x tests): no @context in proof or its hash."""
    return {
        "@context": list(AS_DI_V1),
        "type": "Create",
        "actor": "https://server.example/users/alice",
        "object": {"type": "Note", "content": "Hello world"},
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "verificationMethod": KEY_ID,
            "proofPurpose": "assertionMethod",
            "proofValue": (
                "z3sXaxjKs4M3BRicwWA9peyNPJvJqxtGsDmpt1jjoHCjgeUf71TRFz56osPSfDErszyLp5Ks1EhYSgpDa"
                "NM977Rg2"
            ),
            "created": "2023-02-24T23:36:38Z",
        },
    }


# A Follow as a Fedify server (wizard.casa) sent it, from Fedify's verifyProof() test.
WIZARD_CASA_KEY = "z6MkweqJajqa5jRAJTBVxxu47oCdB7HzmYbBKN8VGbFJmKkC"


def wizard_casa_follow() -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/v1",
            "https://w3id.org/security/data-integrity/v1",
            {
                "Hashtag": "as:Hashtag",
                "MitraJcsRsaSignature2022": "mitra:MitraJcsRsaSignature2022",
                "mitra": "http://jsonld.mitra.social#",
                "proofPurpose": "sec:proofPurpose",
                "proofValue": "sec:proofValue",
                "sensitive": "as:sensitive",
                "verificationMethod": "sec:verificationMethod",
            },
        ],
        "actor": "https://wizard.casa/users/hongminhee",
        "id": "https://wizard.casa/objects/019006d7-95ac-3a0d-c62b-4635a4ea3294",
        "object": "https://activitypub.academy/users/banulius_rakdraval",
        "to": ["https://activitypub.academy/users/banulius_rakdraval"],
        "type": "Follow",
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "verificationMethod": "https://wizard.casa/users/hongminhee#ed25519-key",
            "proofPurpose": "assertionMethod",
            "proofValue": (
                "zmzagWMY7wxj9By6AK27kVv9YzwuiTK7iuLgdDEVK8nHT1snicDEhXTibrPb74YCN8PGNopQnneRYST6c"
                "U4fMGnY"
            ),
            "created": "2024-06-11T10:29:32.165658336Z",
        },
    }


def verifies(document: dict[str, Any], key: Ed25519PublicKey | None = None) -> bool:
    """Check the document's own proof with the published key (or the one given)."""
    proof = proof_of(document)
    assert proof is not None
    return verify_proof(document, proof, key or published_public_key())


# ============================================================================================
# Base58
# ============================================================================================

# Bitcoin Core src/test/data/base58_encode_decode.json (hex, base58).
BITCOIN_BASE58 = [
    ("", ""),
    ("61", "2g"),
    ("626262", "a3gV"),
    ("636363", "aPEr"),
    ("73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"),
    ("00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"),
    ("516b6fcd0f", "ABnLTmg"),
    ("bf4f89001e670274dd", "3SEo3LWLoPntC"),
    ("572e4794", "3EFU7m"),
    ("ecac89cad93923c02321", "EJDM8drfXA6uyA"),
    ("10c8511e", "Rt5zm"),
    ("00000000000000000000", "1111111111"),
    (
        "000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5",
        "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz",
    ),
    ("271F359E", "zzzzy"),
    ("271F359F", "zzzzz"),
    ("271F35A0", "211111"),
]


@pytest.mark.parametrize(("hex_data", "encoded"), BITCOIN_BASE58)
def test_b58encode_matches_the_bitcoin_vectors(hex_data: str, encoded: str) -> None:
    assert b58encode(bytes.fromhex(hex_data)) == encoded


@pytest.mark.parametrize(("hex_data", "encoded"), BITCOIN_BASE58)
def test_b58decode_matches_the_bitcoin_vectors(hex_data: str, encoded: str) -> None:
    assert b58decode(encoded) == bytes.fromhex(hex_data)


@pytest.mark.parametrize("data", [b"\0", b"\0\0\x01", b"\0\xff\0", b"\xff" * 64])
def test_b58_round_trip_keeps_leading_zero_bytes(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data


def test_b58_round_trips_random_bytes() -> None:
    generator = random.Random(8785)
    for length in range(70):
        data = generator.randbytes(length)
        assert b58decode(b58encode(data)) == data


@pytest.mark.parametrize("text", ["0", "O", "I", "l", "abc+", "z z", "é"])
def test_b58decode_rejects_characters_outside_the_bitcoin_alphabet(text: str) -> None:
    with pytest.raises(ProofError):
        b58decode(text)


def test_proof_error_is_a_value_error() -> None:
    assert issubclass(ProofError, ValueError)


# ============================================================================================
# Multikey (FEP-521a)
# ============================================================================================


def test_published_secret_key_derives_the_published_public_key() -> None:
    assert ed25519_to_multikey(published_private_key().public_key()) == PUBLIC_MULTIBASE


def test_fedify_jwk_of_the_test_key_matches_the_published_multikeys() -> None:
    # The same key pair published a second way (Fedify's JWK): seed and public key agree.
    seed = b58decode(SECRET_MULTIBASE[1:])[2:]
    assert unb64url(FEDIFY_JWK_D) == seed
    assert unb64url(FEDIFY_JWK_X) == raw_public(published_public_key())


def test_ed25519_to_multikey_matches_the_fep_521a_vector() -> None:
    key = Ed25519PublicKey.from_public_bytes(
        bytes.fromhex("2e6fcce36701dc791488e0d0b1745cc1e33a4c1c9fcc41c63bd343dbbe0970e6")
    )
    assert ed25519_to_multikey(key) == "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def test_multikey_to_ed25519_reads_the_fep_521a_vector() -> None:
    key = multikey_to_ed25519("z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
    assert raw_public(key).hex() == (
        "2e6fcce36701dc791488e0d0b1745cc1e33a4c1c9fcc41c63bd343dbbe0970e6"
    )


def test_multikey_to_ed25519_rejects_the_fep_521a_rsa_multikey() -> None:
    rsa_multikey = (
        "z4MXj1wBzi9jUstyPMS4jQqB6KdJaiatPkAtVtGc6bQEQEEsKTic4G7Rou3iBf9vPmT5dbkm9qsZsuVNjq8HCuW1w"
        "24nhBFGkRE4cd2Uf2tfrB3N7h4mnyPp1BF3ZttHTYv3DLUPi1zMdkULiow3M1GfXkoC6DoxDUm1jmN6GBj22SjVs"
        "r6dxezRVQc7aj9TxE7JLbMH1wh5X3kA58H3DFW8rnYMakFGbca5CB2Jf6CnGQZmL7o5uJAdTwXfy2iiiyPxXEGer"
        "MhHwhjTA1mKYobyk2CpeEcmvynADfNZ5MBvcCS7m3XkFCMNUYBS9NQ3fze6vMSUPsNa6GVYmKx2x6JrdEjCk3qRM"
        "MmyjnjCMfR4pXbRMZa3i"
    )
    with pytest.raises(ProofError):
        multikey_to_ed25519(rsa_multikey)


def test_multikey_to_ed25519_rejects_a_private_key_multikey() -> None:
    with pytest.raises(ProofError):
        multikey_to_ed25519(SECRET_MULTIBASE)


@pytest.mark.parametrize(
    "multibase",
    [
        PUBLIC_MULTIBASE[1:],  # no multibase prefix
        "u" + PUBLIC_MULTIBASE[1:],  # another multibase
        PUBLIC_MULTIBASE[:-3],  # truncated key
        "z" + b58encode(b"\xed\x01" + b"\x01" * 33),  # one byte too many
        "z6Mk0OIl",  # not base58
        "",
    ],
)
def test_multikey_to_ed25519_rejects_malformed_input(multibase: str) -> None:
    with pytest.raises(ProofError):
        multikey_to_ed25519(multibase)


def test_multikey_to_ed25519_rejects_a_non_string() -> None:
    with pytest.raises(ProofError):
        multikey_to_ed25519(None)  # type: ignore[arg-type]


# ============================================================================================
# RFC 8785 canonicalisation
# ============================================================================================

RFC_3_2_2_INPUT = {
    "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
    "literals": [None, True, False],
}


def test_canonicalize_gives_the_rfc_8785_section_3_2_2_output() -> None:
    assert canonicalize(RFC_3_2_2_INPUT).decode() == (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )


def test_canonicalize_gives_the_rfc_8785_section_3_2_4_utf8_bytes() -> None:
    assert canonicalize(RFC_3_2_2_INPUT) == bytes.fromhex(
        "7b226c69746572616c73223a5b6e756c6c2c747275652c66616c73655d2c226e756d62657273223a"
        "5b3333333333333333332e333333333333332c31652b33302c342e352c302e3030322c31652d3237"
        "5d2c22737472696e67223a22e282ac245c75303030665c6e4127425c225c5c5c5c5c222f227d"
    )


def test_canonicalize_sorts_members_by_utf16_code_units() -> None:
    # RFC 8785 §3.2.3: the emoji (surrogates D83D DE00) sorts before U+FB33, unlike by code point.
    document = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    assert canonicalize(document).decode() == (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )


def test_canonicalize_sorts_nested_members_and_keeps_array_order() -> None:
    document = {"b": [{"z": 1, "a": 2}, 3], "a": {"d": True, "c": None}}
    assert canonicalize(document) == b'{"a":{"c":null,"d":true},"b":[{"a":2,"z":1},3]}'


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1e30, "1e+30"),
        (4.50, "4.5"),
        (2e-3, "0.002"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (-0.0, "0"),
        (1e-27, "1e-27"),
        (333333333.33333329, "333333333.3333333"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123.0, "123"),
        (-71.184902, "-71.184902"),
        (0.1 + 0.2, "0.30000000000000004"),
    ],
)
def test_canonicalize_writes_numbers_as_ecmascript_does(number: float, text: str) -> None:
    assert canonicalize(number).decode() == text


# RFC 8785 Appendix B: IEEE 754 bit patterns and their ECMAScript serialisations.
RFC_APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "text"), RFC_APPENDIX_B)
def test_canonicalize_matches_the_rfc_8785_number_table(bits: str, text: str) -> None:
    (number,) = struct.unpack(">d", bytes.fromhex(bits))
    assert canonicalize(number).decode() == text


@pytest.mark.parametrize(
    ("number", "text"),
    [(25, "25"), (-3, "-3"), (0, "0"), (10**21, "1e+21"), (2**53 + 1, "9007199254740992")],
)
def test_canonicalize_writes_integers_as_the_nearest_double(number: int, text: str) -> None:
    assert canonicalize(number).decode() == text


def test_canonicalize_escapes_only_quotes_backslashes_and_c0_controls() -> None:
    # JSON.stringify: short escapes where they exist, lowercase \u00xx for other C0 controls;
    # DEL, U+2028 and non-ASCII stay literal.
    text = "\b\t\n\f\r\u0000\u001f\u007f\u2028é/"
    assert canonicalize(text) == '"\\b\\t\\n\\f\\r\\u0000\\u001f\u007f\u2028é/"'.encode()


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf"), 10**400])
def test_canonicalize_rejects_numbers_a_double_cannot_hold(number: float) -> None:
    with pytest.raises(ValueError, match="JCS"):
        canonicalize({"n": number})


@pytest.mark.parametrize("document", ["\ud800", {"\udc00": 1}, ["a\ud83d"]])
def test_canonicalize_rejects_lone_surrogates(document: object) -> None:
    with pytest.raises(ValueError, match="surrogate"):
        canonicalize(document)


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", {1: "x"}, object()])
def test_canonicalize_rejects_values_that_are_not_json(value: object) -> None:
    with pytest.raises(TypeError):
        canonicalize(value)


# ============================================================================================
# Published proof vectors
# ============================================================================================


def test_w3c_canonical_credential_matches_example_31_byte_for_byte() -> None:
    assert canonicalize(W3C_CREDENTIAL) == W3C_CANONICAL_CREDENTIAL.encode()


def test_w3c_credential_hash_matches_example_32() -> None:
    assert hashlib.sha256(canonicalize(W3C_CREDENTIAL)).hexdigest() == W3C_CREDENTIAL_HASH


def test_w3c_canonical_proof_options_match_example_34_byte_for_byte() -> None:
    assert canonicalize(W3C_PROOF_OPTIONS) == W3C_CANONICAL_PROOF_OPTIONS.encode()


def test_w3c_proof_options_hash_matches_example_35() -> None:
    assert hashlib.sha256(canonicalize(W3C_PROOF_OPTIONS)).hexdigest() == W3C_PROOF_OPTIONS_HASH


def test_w3c_example_37_signature_covers_the_example_36_hashes() -> None:
    hash_data = bytes.fromhex(W3C_PROOF_OPTIONS_HASH + W3C_CREDENTIAL_HASH)  # Example 36
    published_public_key().verify(bytes.fromhex(W3C_SIGNATURE_HEX), hash_data)  # raises if not


def test_w3c_example_38_proof_value_is_the_base58_example_37_signature() -> None:
    assert "z" + b58encode(bytes.fromhex(W3C_SIGNATURE_HEX)) == W3C_PROOF_VALUE


def test_w3c_signed_credential_verifies() -> None:
    assert verifies(w3c_signed_credential())


def test_sign_document_reproduces_the_w3c_proof_value() -> None:
    signed = sign_document(
        W3C_CREDENTIAL, published_private_key(), W3C_VERIFICATION_METHOD, CREATED
    )
    assert signed["proof"]["proofValue"] == W3C_PROOF_VALUE


def test_fep_8b32_signed_activity_verifies_with_the_published_key() -> None:
    assert verifies(fep_signed_activity())


def test_sign_document_reproduces_the_fep_8b32_signed_activity() -> None:
    assert sign_document(fep_activity(), published_private_key(), KEY_ID, CREATED) == (
        fep_signed_activity()
    )


def test_fedify_signed_activity_verifies() -> None:
    assert verifies(fedify_signed_activity(proof_context=True))


def test_proof_without_context_verifies_when_signed_with_the_document_context() -> None:
    # Fedify's verifyObject() test: the proof has no @context, the hashed configuration had one.
    assert verifies(fedify_signed_activity(proof_context=False))


def test_proof_without_context_verifies_when_signed_without_one() -> None:
    # The earlier FEP-8b32 feature: the W3C algorithm as written, no @context anywhere in the proof.
    assert verifies(early_fep_signed_activity())


def test_follow_signed_by_a_live_fedify_server_verifies() -> None:
    assert verifies(wizard_casa_follow(), multikey_to_ed25519(WIZARD_CASA_KEY))


# ============================================================================================
# Tampering, wrong keys, garbage
# ============================================================================================


def test_one_changed_character_in_content_fails() -> None:
    document = fep_signed_activity()
    document["object"]["content"] = "Hello World"
    assert not verifies(document)


def test_changed_actor_fails() -> None:
    document = fep_signed_activity()
    document["actor"] = "https://evil.example/users/mallory"
    assert not verifies(document)


def test_removed_field_fails() -> None:
    document = fep_signed_activity()
    del document["object"]["attributedTo"]
    assert not verifies(document)


def test_added_field_fails() -> None:
    document = fep_signed_activity()
    document["cc"] = ["https://www.w3.org/ns/activitystreams#Public"]
    assert not verifies(document)


def test_changed_number_fails() -> None:
    document = fep_signed_activity()
    document["object"]["location"]["latitude"] = 25.273963
    assert not verifies(document)


def test_changed_created_fails() -> None:
    document = fep_signed_activity()
    document["proof"]["created"] = "2023-02-24T23:36:39Z"
    assert not verifies(document)


def test_changed_verification_method_fails() -> None:
    document = fep_signed_activity()
    document["proof"]["verificationMethod"] = "https://server.example/users/bob#ed25519-key"
    assert not verifies(document)


def test_proof_by_another_key_fails() -> None:
    assert not verifies(fep_signed_activity(), Ed25519PrivateKey.generate().public_key())


def test_wrong_cryptosuite_is_not_picked_by_proof_of() -> None:
    document = fep_signed_activity()
    document["proof"]["cryptosuite"] = "eddsa-rdfc-2022"
    assert proof_of(document) is None


def test_verify_proof_refuses_a_proof_of_another_cryptosuite() -> None:
    document = fep_signed_activity()
    document["proof"]["cryptosuite"] = "eddsa-rdfc-2022"
    assert not verify_proof(document, document["proof"], published_public_key())


def test_proof_with_another_purpose_fails() -> None:
    document = fep_signed_activity()
    document["proof"]["proofPurpose"] = "authentication"
    assert not verifies(document)


@pytest.mark.parametrize(
    "proof_value",
    [
        "zgarbage0OIl",  # not base58
        "z",  # nothing
        "",
        FEP_PROOF_VALUE[1:],  # no multibase prefix
        "z" + b58encode(b"\x01" * 63),  # too short for a signature
        "z" + b58encode(b"\x01" * 65),  # too long
        "z" + "2" * 5000,  # oversized
        None,
        42,
        ["z42ff"],
    ],
)
def test_garbage_proof_value_is_false_not_an_exception(proof_value: object) -> None:
    document = fep_signed_activity()
    document["proof"]["proofValue"] = proof_value
    assert not verifies(document)


def test_missing_proof_value_is_false() -> None:
    document = fep_signed_activity()
    del document["proof"]["proofValue"]
    assert not verifies(document)


@pytest.mark.parametrize("created", ["yesterday", "", 1677281798, None])
def test_unparseable_created_is_false(created: object) -> None:
    document = fep_signed_activity()
    document["proof"]["created"] = created
    assert not verifies(document)


def test_expired_proof_fails() -> None:
    # Given an expiry the signer really signed, the date is what makes it fail.
    options = {**fep_signed_activity()["proof"], "expires": "2024-01-01T00:00:00Z"}
    assert not verifies(_sign_with_options(fep_activity(), published_private_key(), options))


def test_proof_expiring_in_the_future_verifies() -> None:
    later = (datetime.now(UTC) + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    options = {**fep_signed_activity()["proof"], "expires": later}
    assert verifies(_sign_with_options(fep_activity(), published_private_key(), options))


def _sign_with_options(
    document: dict[str, Any], private_key: Ed25519PrivateKey, options: dict[str, Any]
) -> dict[str, Any]:
    """Sign with arbitrary proof options (eddsa-jcs-2022 by hand) to test members we never emit."""
    config = {name: value for name, value in options.items() if name != "proofValue"}
    hash_data = hashlib.sha256(canonicalize(config)).digest()
    hash_data += hashlib.sha256(canonicalize(document)).digest()
    proof_value = "z" + b58encode(private_key.sign(hash_data))
    return {**document, "proof": {**config, "proofValue": proof_value}}


def test_proof_context_that_does_not_start_the_document_context_fails() -> None:
    document = fep_signed_activity()
    document["@context"] = ["https://www.w3.org/ns/activitystreams"]
    assert not verifies(document)


def test_document_context_extended_after_signing_still_verifies() -> None:
    # W3C Verify Proof step 4: the proof's @context need only start the document's.
    document = fep_signed_activity()
    document["@context"] = [*AS_DI_V2, {"Hashtag": "as:Hashtag"}]
    assert verifies(document)


def test_linked_data_signature_added_after_the_proof_is_ignored() -> None:
    # FEP-8b32: the LD signature (Mastodon's RsaSignature2017) is removed before checking.
    document = fep_signed_activity()
    document["signature"] = {
        "type": "RsaSignature2017",
        "creator": "https://server.example/users/alice#main-key",
        "created": "2023-02-24T23:36:40Z",
        "signatureValue": "c2lnbmF0dXJl",
    }
    assert verifies(document)


@pytest.mark.parametrize("bad", [float("nan"), "\ud800", {1, 2}])
def test_document_that_cannot_be_canonicalised_is_false(bad: object) -> None:
    document = fep_signed_activity()
    document["object"]["content"] = bad
    assert not verifies(document)


@pytest.mark.parametrize("document", [None, "text", ["list"], 42])
def test_document_that_is_not_an_object_is_false(document: object) -> None:
    proof = fep_signed_activity()["proof"]
    assert not verify_proof(document, proof, published_public_key())  # type: ignore[arg-type]


@pytest.mark.parametrize("proof", [None, "proof", [], {"type": "DataIntegrityProof"}])
def test_proof_that_is_not_a_proof_object_is_false(proof: object) -> None:
    assert not verify_proof(fep_activity(), proof, published_public_key())  # type: ignore[arg-type]


# ============================================================================================
# proof_of
# ============================================================================================


def test_proof_of_returns_a_single_proof_object() -> None:
    document = fep_signed_activity()
    assert proof_of(document) is document["proof"]


def test_proof_of_returns_the_first_eddsa_jcs_proof_of_an_array() -> None:
    document = fep_signed_activity()
    wanted = document["proof"]
    other = {**wanted, "verificationMethod": "https://example.com/person2#key4"}
    rdfc = {**wanted, "cryptosuite": "eddsa-rdfc-2022"}
    document["proof"] = [rdfc, wanted, other]
    assert proof_of(document) is wanted


def test_proof_of_skips_other_proof_types() -> None:
    document = fep_signed_activity()
    document["proof"]["type"] = "Ed25519Signature2020"
    assert proof_of(document) is None


def test_proof_of_accepts_a_type_array() -> None:
    document = fep_signed_activity()
    document["proof"]["type"] = ["DataIntegrityProof"]
    assert proof_of(document) is document["proof"]


@pytest.mark.parametrize("proof", [None, "z42ff", 7, [], ["z42ff", None]])
def test_proof_of_finds_nothing_in_a_document_without_a_proof_object(proof: object) -> None:
    document: dict[str, Any] = {**fep_activity(), "proof": proof}
    assert proof_of(document) is None


def test_proof_of_a_document_without_proof_is_none() -> None:
    assert proof_of(fep_activity()) is None


# ============================================================================================
# sign_document
# ============================================================================================


def test_sign_document_then_verify_proof_round_trips() -> None:
    private_key = Ed25519PrivateKey.generate()
    document = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Note",
        "content": "<p>Ünïcödé, emoji 😀, numbers</p>",
        "numbers": [1, 2.5, -0.0, 1e-7, 10**21],
    }
    signed = sign_document(document, private_key, KEY_ID, CREATED)
    assert verifies(signed, private_key.public_key())


def test_sign_document_without_a_context_round_trips() -> None:
    private_key = Ed25519PrivateKey.generate()
    signed = sign_document({"type": "Note", "content": "hi"}, private_key, KEY_ID, CREATED)
    assert "@context" not in signed["proof"]
    assert verifies(signed, private_key.public_key())


def test_sign_document_leaves_its_input_unchanged() -> None:
    document = fep_activity()
    sign_document(document, published_private_key(), KEY_ID, CREATED)
    assert document == fep_activity()


def test_sign_document_appends_to_an_existing_proof() -> None:
    # Given a document with a proof, a second signer's proof joins it in a proof set.
    first = fep_signed_activity()
    second_key = Ed25519PrivateKey.generate()
    both = sign_document(first, second_key, "https://example.com/person2#key4", CREATED)
    assert both["proof"][0] == first["proof"]
    assert verify_proof(both, both["proof"][0], published_public_key())
    assert verify_proof(both, both["proof"][1], second_key.public_key())


def test_sign_document_writes_created_in_utc_with_a_z() -> None:
    created = datetime(2023, 2, 25, 8, 36, 38, tzinfo=timezone(timedelta(hours=9)))
    signed = sign_document(fep_activity(), published_private_key(), KEY_ID, created)
    assert signed["proof"]["created"] == "2023-02-24T23:36:38Z"


def test_sign_document_keeps_microseconds_of_created() -> None:
    created = CREATED.replace(microsecond=165658)
    signed = sign_document(fep_activity(), published_private_key(), KEY_ID, created)
    assert signed["proof"]["created"] == "2023-02-24T23:36:38.165658Z"


def test_sign_document_refuses_a_naive_created() -> None:
    with pytest.raises(ValueError, match="timezone"):
        sign_document(fep_activity(), published_private_key(), KEY_ID, datetime(2023, 2, 24))
