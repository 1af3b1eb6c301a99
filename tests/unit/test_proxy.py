"""web/proxy: X-Forwarded-For and -Proto believed only from the configured proxies."""

from __future__ import annotations

import pytest

from web.proxy import TrustedProxies


async def _seen(proxies: tuple[str, ...], client: str, headers: list[tuple[bytes, bytes]]):
    seen: dict = {}

    async def app(scope, _receive, _send) -> None:
        seen.update(scope)

    scope = {"type": "http", "client": (client, 5555), "scheme": "http", "headers": headers}
    await TrustedProxies(app, proxies)(scope, None, None)
    return seen["client"][0], seen["scheme"]


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("10.0.0.2", "203.0.113.9", "203.0.113.9"),  # from the proxy: the client it saw
        ("198.51.100.1", "127.0.0.1", "198.51.100.1"),  # from anyone else: forged, ignored
        ("10.0.0.2", "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # only the hop the proxy added
        ("10.0.0.2", "203.0.113.9, 10.0.0.3", "203.0.113.9"),  # through two trusted proxies
        ("10.0.0.2", "not-an-ip", "10.0.0.2"),  # garbage: the proxy itself
        ("10.0.0.2", "[2001:db8::1]:443", "2001:db8::1"),
        ("::ffff:10.0.0.2", "203.0.113.9", "203.0.113.9"),  # v4-mapped peer
    ],
)
async def test_the_client_address(peer: str, forwarded: str, expected: str):
    headers = [(b"x-forwarded-for", forwarded.encode())]
    client, _ = await _seen(("10.0.0.0/24",), peer, headers)
    assert client == expected


async def test_the_scheme_comes_from_a_trusted_proxy_only():
    headers = [(b"x-forwarded-proto", b"https")]
    assert (await _seen(("10.0.0.2",), "10.0.0.2", headers))[1] == "https"
    assert (await _seen(("10.0.0.2",), "10.0.0.9", headers))[1] == "http"
    odd = [(b"x-forwarded-proto", b"gopher")]
    assert (await _seen(("10.0.0.2",), "10.0.0.2", odd))[1] == "http"
