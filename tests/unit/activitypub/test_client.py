"""The outbound HTTP client: URL and address refusal, size, redirect and time limits, and (on
real local servers) that the connection goes to the checked address with the hostname kept
for the Host header, TLS SNI and the certificate check."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from activitypub import client as client_module
from activitypub import vocab
from activitypub.client import (
    FetchPolicy,
    SafeClient,
    check_url,
    is_refused_address,
    resolve_checked,
)
from activitypub.errors import FetchError, ResponseTooLarge, UnsafeURL

Resolver = Callable[[str, int], Awaitable[list[str]]]
PUBLIC_IP = "93.184.215.14"
PUBLIC_IP_2 = "151.101.1.140"
PRODUCTION = FetchPolicy()
LOOPBACK_ALLOWED = FetchPolicy(allow_http=True, allowed_private_networks=("127.0.0.0/8",))
ANY_ADDRESS = ".".join(["0"] * 4)  # 0.0.0.0, spelled so no linter takes it for a bind address


def resolver_for(names: dict[str, list[str]], calls: list[str] | None = None) -> Resolver:
    """A resolver answering from ``names``; an unknown name fails like getaddrinfo does."""

    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return names[host]

    return resolve


PUBLIC_NAMES = resolver_for(
    {
        "peer.example": [PUBLIC_IP],
        "other.example": [PUBLIC_IP_2],
        "sneaky.example": ["127.0.0.1"],
        "intranet.example": ["10.0.0.5"],
    }
)

Handler = Callable[[httpx.Request], httpx.Response]


def mock_client(handler: Handler, policy: FetchPolicy = PRODUCTION) -> SafeClient:
    return SafeClient(policy, transport=httpx.MockTransport(handler), resolver=PUBLIC_NAMES)


def never_called(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request should have been sent, got {request.url}")


# --- Addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.0.9",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        ANY_ADDRESS,
        "::",
        "100.64.0.1",  # carrier-grade NAT
        "224.0.0.1",
        "ff02::1",
        "240.0.0.1",
        "fec0::1",  # IPv6 site-local
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "not-an-address",
    ],
)
def test_private_loopback_link_local_and_special_addresses_are_refused(address: str) -> None:
    assert is_refused_address(address, PRODUCTION)


@pytest.mark.parametrize(
    "address", [PUBLIC_IP, "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_are_not_refused(address: str) -> None:
    assert not is_refused_address(address, PRODUCTION)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::ffff:127.0.0.1"])
def test_allowed_private_networks_let_loopback_through(address: str) -> None:
    assert not is_refused_address(address, LOOPBACK_ALLOWED)


@pytest.mark.parametrize("address", ["10.0.0.1", "::1", "169.254.169.254"])
def test_allowed_private_networks_let_only_those_networks_through(address: str) -> None:
    assert is_refused_address(address, LOOPBACK_ALLOWED)


def test_malformed_allowed_network_fails_when_the_policy_is_built() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        FetchPolicy(allowed_private_networks=("not-a-network",))


# --- URLs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/actor",
        "https://[::1]/actor",
        "https://10.0.0.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fe80::1]/",
        "https://[::ffff:127.0.0.1]/",
        f"https://{ANY_ADDRESS}:8080/",
    ],
)
def test_ip_literal_in_a_refused_range_is_refused(url: str) -> None:
    with pytest.raises(UnsafeURL, match="refused"):
        check_url(url, PRODUCTION)


def test_http_is_refused_unless_allowed() -> None:
    with pytest.raises(UnsafeURL, match="plain http"):
        check_url("http://peer.example/actor", PRODUCTION)


def test_http_is_accepted_when_allowed() -> None:
    assert check_url("http://peer.example/actor", FetchPolicy(allow_http=True)) == (
        "http",
        "peer.example",
        80,
    )


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://peer.example/", "gopher://peer.example/", "peer.example"]
)
def test_schemes_other_than_http_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURL):
        check_url(url, PRODUCTION)


@pytest.mark.parametrize(
    "url",
    ["https://user:secret@peer.example/", "https://user@peer.example/", "https://:x@peer.example/"],
)
def test_userinfo_in_the_url_is_refused(url: str) -> None:
    with pytest.raises(UnsafeURL, match="credentials"):
        check_url(url, PRODUCTION)


@pytest.mark.parametrize("url", ["https:///actor", "https://:443/actor"])
def test_url_without_a_host_is_refused(url: str) -> None:
    with pytest.raises(UnsafeURL, match="no host"):
        check_url(url, PRODUCTION)


def test_check_url_answers_scheme_ascii_host_and_port() -> None:
    assert check_url("https://Peer.Example/users/a", PRODUCTION) == ("https", "peer.example", 443)
    assert check_url("https://bücher.example:8443/", PRODUCTION) == (
        "https",
        "xn--bcher-kva.example",
        8443,
    )


# --- Names ----------------------------------------------------------------------------------


async def test_name_resolving_to_a_private_address_is_refused() -> None:
    with pytest.raises(UnsafeURL, match=r"10\.0\.0\.5"):
        await resolve_checked("intranet.example", 443, PRODUCTION, PUBLIC_NAMES)


async def test_name_with_any_refused_address_among_public_ones_is_refused() -> None:
    mixed = resolver_for({"mixed.example": [PUBLIC_IP, "192.168.0.7"]})
    with pytest.raises(UnsafeURL, match=r"192\.168\.0\.7"):
        await resolve_checked("mixed.example", 443, PRODUCTION, mixed)


async def test_resolve_checked_answers_the_first_address() -> None:
    two = resolver_for({"two.example": [PUBLIC_IP, PUBLIC_IP_2]})
    assert await resolve_checked("two.example", 443, PRODUCTION, two) == PUBLIC_IP


async def test_allowed_private_networks_let_a_name_resolve_to_loopback() -> None:
    assert await resolve_checked("sneaky.example", 80, LOOPBACK_ALLOWED, PUBLIC_NAMES) == (
        "127.0.0.1"
    )


async def test_unresolvable_name_is_a_retryable_fetch_error() -> None:
    with pytest.raises(FetchError, match="cannot resolve") as caught:
        await resolve_checked("gone.example", 443, PRODUCTION, PUBLIC_NAMES)
    assert caught.value.retryable
    assert not isinstance(caught.value, UnsafeURL)


async def test_name_resolving_to_no_address_is_a_retryable_fetch_error() -> None:
    with pytest.raises(FetchError, match="no address") as caught:
        await resolve_checked("empty.example", 443, PRODUCTION, resolver_for({"empty.example": []}))
    assert caught.value.retryable


async def test_public_name_resolving_to_loopback_is_refused() -> None:
    async with mock_client(never_called) as client:
        with pytest.raises(UnsafeURL, match=r"127\.0\.0\.1"):
            await client.get("https://sneaky.example/actor")


async def test_post_to_a_name_resolving_to_a_private_address_is_refused() -> None:
    async with mock_client(never_called) as client:
        with pytest.raises(UnsafeURL):
            await client.post("https://intranet.example/inbox", b"{}")


async def test_client_refuses_plain_http_by_default() -> None:
    async with mock_client(never_called) as client:
        with pytest.raises(UnsafeURL, match="plain http"):
            await client.get("http://peer.example/actor")


# --- Responses ------------------------------------------------------------------------------


async def test_requests_carry_the_policy_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202)

    policy = FetchPolicy(user_agent="Starling/0.1 (+https://starling.test/)")
    async with mock_client(handler, policy) as client:
        await client.get("https://peer.example/actor")
        await client.post("https://peer.example/inbox", b"{}")
    assert [r.headers["User-Agent"] for r in seen] == [policy.user_agent] * 2


async def test_get_json_sends_the_activitypub_accept_and_answers_document_and_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Accept"] == vocab.ACCEPT
        return httpx.Response(200, json={"id": "https://peer.example/users/a"})

    async with mock_client(handler) as client:
        document, url = await client.get_json("https://peer.example/users/a")
    assert document == {"id": "https://peer.example/users/a"}
    assert url == "https://peer.example/users/a"


async def test_post_sends_the_body_and_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202)

    async with mock_client(handler) as client:
        response = await client.post(
            "https://peer.example/inbox", b'{"type":"Follow"}', headers={"Content-Type": "x/y"}
        )
    assert response.status == 202
    assert seen[0].content == b'{"type":"Follow"}'
    assert seen[0].headers["Content-Type"] == "x/y"


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
async def test_server_errors_and_too_many_requests_are_retryable(status: int) -> None:
    async with mock_client(lambda request: httpx.Response(status)) as client:
        with pytest.raises(FetchError) as caught:
            await client.get_json("https://peer.example/users/a")
    assert caught.value.status == status
    assert caught.value.retryable


@pytest.mark.parametrize("status", [404, 410, 400, 401, 403])
async def test_not_found_gone_and_other_client_errors_are_not_retryable(status: int) -> None:
    async with mock_client(lambda request: httpx.Response(status)) as client:
        with pytest.raises(FetchError) as caught:
            await client.get_json("https://peer.example/users/a")
    assert caught.value.status == status
    assert not caught.value.retryable


async def test_get_and_post_return_error_statuses_without_raising() -> None:
    async with mock_client(lambda request: httpx.Response(503, content=b"down")) as client:
        got = await client.get("https://peer.example/users/a")
        posted = await client.post("https://peer.example/inbox", b"{}")
    assert (got.status, got.body, posted.status) == (503, b"down", 503)
    with pytest.raises(FetchError) as caught:
        posted.raise_for_status()
    assert caught.value.retryable


async def test_get_json_refuses_a_body_that_is_not_json() -> None:
    async with mock_client(lambda request: httpx.Response(200, content=b"<html>")) as client:
        with pytest.raises(FetchError, match="not JSON") as caught:
            await client.get_json("https://peer.example/users/a")
    assert not caught.value.retryable


async def test_absurdly_nested_json_is_refused_not_a_crash() -> None:
    nested = b"[" * 200_000 + b"]" * 200_000
    async with mock_client(lambda request: httpx.Response(200, content=nested)) as client:
        with pytest.raises(FetchError, match="not JSON"):
            await client.get_json("https://peer.example/users/a")


# --- Size -----------------------------------------------------------------------------------


async def test_body_over_the_limit_by_content_length_is_refused_before_reading() -> None:
    async def unread() -> AsyncIterator[bytes]:
        raise AssertionError("the body should not have been read")
        yield b""  # pragma: no cover

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": "1025"}, content=unread())

    async with mock_client(handler, FetchPolicy(max_response_bytes=1024)) as client:
        with pytest.raises(ResponseTooLarge, match="Content-Length"):
            await client.get("https://peer.example/big")


async def test_body_over_the_limit_while_streaming_is_refused() -> None:
    sent: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(1000):
            sent.append(1)
            yield b"x" * 512

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())  # chunked: no Content-Length

    async with mock_client(handler, FetchPolicy(max_response_bytes=1024)) as client:
        with pytest.raises(ResponseTooLarge, match="over 1024 bytes"):
            await client.get("https://peer.example/big")
    assert len(sent) <= 3  # stopped reading as soon as the limit was passed


async def test_body_exactly_at_the_limit_is_accepted() -> None:
    async with mock_client(
        lambda request: httpx.Response(200, content=b"x" * 1024),
        FetchPolicy(max_response_bytes=1024),
    ) as client:
        assert len((await client.get("https://peer.example/ok")).body) == 1024


# --- Redirects ------------------------------------------------------------------------------


def redirecting(chain: dict[str, httpx.Response], seen: list[str] | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(str(request.url))
        return chain[str(request.url)]

    return handler


async def test_get_follows_redirects_with_a_relative_location() -> None:
    chain = {
        "https://peer.example/@a": httpx.Response(301, headers={"Location": "/users/a"}),
        "https://peer.example/users/a": httpx.Response(
            302, headers={"Location": "https://other.example/actors/a#main"}
        ),
        "https://other.example/actors/a": httpx.Response(200, json={"id": "a"}),
    }
    async with mock_client(redirecting(chain)) as client:
        document, url = await client.get_json("https://peer.example/@a")
    assert (document, url) == ({"id": "a"}, "https://other.example/actors/a")


async def test_more_redirects_than_the_limit_is_not_retryable() -> None:
    seen: list[str] = []
    chain = {
        f"https://peer.example/{n}": httpx.Response(307, headers={"Location": f"/{n + 1}"})
        for n in range(10)
    }
    async with mock_client(redirecting(chain, seen), FetchPolicy(max_redirects=3)) as client:
        with pytest.raises(FetchError, match="more than 3 redirects") as caught:
            await client.get("https://peer.example/0")
    assert not caught.value.retryable
    assert len(seen) == 4  # the first request and three redirects


async def test_redirect_to_a_private_address_is_refused() -> None:
    seen: list[str] = []
    chain = {
        "https://peer.example/users/a": httpx.Response(
            302, headers={"Location": "https://169.254.169.254/latest/meta-data/"}
        )
    }
    async with mock_client(redirecting(chain, seen)) as client:
        with pytest.raises(UnsafeURL, match=r"169\.254\.169\.254"):
            await client.get("https://peer.example/users/a")
    assert seen == ["https://peer.example/users/a"]


async def test_redirect_to_a_name_resolving_to_loopback_is_refused() -> None:
    seen: list[str] = []
    chain = {
        "https://peer.example/users/a": httpx.Response(
            308, headers={"Location": "https://sneaky.example/admin"}
        )
    }
    async with mock_client(redirecting(chain, seen)) as client:
        with pytest.raises(UnsafeURL, match=r"sneaky\.example"):
            await client.get("https://peer.example/users/a")
    assert seen == ["https://peer.example/users/a"]


async def test_redirect_from_https_to_http_is_refused() -> None:
    chain = {
        "https://peer.example/a": httpx.Response(302, headers={"Location": "http://peer.example/a"})
    }
    async with mock_client(redirecting(chain)) as client:
        with pytest.raises(UnsafeURL, match="plain http"):
            await client.get("https://peer.example/a")


async def test_post_does_not_follow_redirects() -> None:
    seen: list[str] = []
    chain = {
        "https://peer.example/inbox": httpx.Response(
            308, headers={"Location": "https://other.example/inbox"}
        )
    }
    async with mock_client(redirecting(chain, seen)) as client:
        response = await client.post("https://peer.example/inbox", b"{}")
    assert response.status == 308
    assert response.headers["Location"] == "https://other.example/inbox"
    assert seen == ["https://peer.example/inbox"]


class HostAndTargetSigner(httpx.Auth):
    """Stands in for the HTTP-signature signer: signs Host and (request-target)."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        target = f"{request.method.lower()} {request.url.raw_path.decode()}"
        request.headers["Signature"] = f"host={request.headers['Host']} target={target}"
        yield request


async def test_auth_signs_each_redirect_hop_with_its_own_host_and_target() -> None:
    signatures: list[str] = []
    chain = {
        "https://peer.example/@a": httpx.Response(302, headers={"Location": "/users/a?x=1"}),
        "https://peer.example/users/a?x=1": httpx.Response(
            302, headers={"Location": "https://other.example/actors/a"}
        ),
        "https://other.example/actors/a": httpx.Response(200, json={}),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        signatures.append(request.headers["Signature"])
        return chain[str(request.url)]

    async with mock_client(handler) as client:
        await client.get_json("https://peer.example/@a", auth=HostAndTargetSigner())
    assert signatures == [
        "host=peer.example target=get /@a",
        "host=peer.example target=get /users/a?x=1",
        "host=other.example target=get /actors/a",
    ]


# --- Transport failures ---------------------------------------------------------------------


async def test_time_out_is_retryable() -> None:
    async def stuck(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200)  # pragma: no cover

    policy = FetchPolicy(total_timeout=0.1)
    async with SafeClient(policy, transport=httpx.MockTransport(stuck), resolver=PUBLIC_NAMES) as c:
        with pytest.raises(FetchError, match="timed out") as caught:
            await c.get("https://peer.example/users/a")
    assert caught.value.retryable


async def test_connection_error_is_retryable() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    async with mock_client(refused) as client:
        with pytest.raises(FetchError, match="ConnectError") as caught:
            await client.post("https://peer.example/inbox", b"{}")
    assert caught.value.retryable


# --- Real local servers ---------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    target: str
    host: str
    body: bytes
    local: str  # the server address the connection reached


@dataclass
class LocalPeer:
    """A small HTTP/1.1 server on 127.0.0.1 (keep-alive, optional TLS) recording requests.

    ``delay`` waits before answering; ``drip`` sends the body one byte every 50 ms."""

    delay: float = 0.0
    drip: bool = False
    tls: ssl.SSLContext | None = None
    seen: list[Seen] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)
    connections: int = 0
    closed: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[object]] = field(default_factory=set)

    async def __aenter__(self) -> LocalPeer:
        if self.tls is not None:
            self.tls.sni_callback = lambda _sock, name, _ctx: self.sni.append(name)
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: object, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.wait_for(self._server.wait_closed(), 1)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            while True:
                await self._one(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            self.closed += 1
            self._closing.set()
            writer.close()

    async def wait_closed_connections(self, count: int) -> None:
        """Wait (at most a second) until ``count`` connections have been closed."""
        async with asyncio.timeout(1):
            while self.closed < count:
                self._closing.clear()
                await self._closing.wait()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ")
        headers = {
            k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in lines[1:] if h)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        local = writer.get_extra_info("sockname")[0]
        self.seen.append(Seen(method, target, headers["host"], body, local))
        await asyncio.sleep(self.delay)
        if self.drip:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(1000):
                writer.write(b"x")
                await writer.drain()
                await asyncio.sleep(0.05)
        payload = json.dumps({"host": headers["host"]}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\n"
            + f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        await writer.drain()


LOOPBACK_NAMES = {"peer.test": ["127.0.0.1"]}


def local_client(names: dict[str, list[str]], policy: FetchPolicy = LOOPBACK_ALLOWED) -> SafeClient:
    return SafeClient(policy, resolver=resolver_for(names))


async def test_connection_goes_to_the_checked_address_with_the_original_host_header() -> None:
    calls: list[str] = []
    # The system resolver does not know peer.test: only the checked answer can be connected to.
    resolver = resolver_for({"peer.test": ["127.0.0.1"]}, calls)
    async with LocalPeer() as peer, SafeClient(LOOPBACK_ALLOWED, resolver=resolver) as client:
        document, url = await client.get_json(f"http://peer.test:{peer.port}/users/a")
    assert document == {"host": f"peer.test:{peer.port}"}
    assert url == f"http://peer.test:{peer.port}/users/a"
    assert [(s.method, s.target, s.host, s.local) for s in peer.seen] == [
        ("GET", "/users/a", f"peer.test:{peer.port}", "127.0.0.1")
    ]
    assert calls == ["peer.test"]  # resolved once: the address checked is the one used


async def test_public_name_resolving_to_loopback_never_reaches_a_real_server() -> None:
    async with (
        LocalPeer() as peer,
        local_client(LOOPBACK_NAMES, FetchPolicy(allow_http=True)) as client,
    ):
        with pytest.raises(UnsafeURL):
            await client.get(f"http://peer.test:{peer.port}/")
    assert peer.connections == 0


async def test_post_to_a_real_peer_sends_the_body_on_the_pinned_connection() -> None:
    async with LocalPeer() as peer, local_client(LOOPBACK_NAMES) as client:
        response = await client.post(f"http://peer.test:{peer.port}/inbox", b'{"type":"Like"}')
    assert response.status == 200
    assert [(s.method, s.target, s.body) for s in peer.seen] == [
        ("POST", "/inbox", b'{"type":"Like"}')
    ]


async def test_requests_to_one_peer_reuse_one_connection() -> None:
    async with LocalPeer() as peer, local_client(LOOPBACK_NAMES) as client:
        for n in range(5):
            await client.post(f"http://peer.test:{peer.port}/inbox", str(n).encode())
    assert (len(peer.seen), peer.connections) == (5, 1)


async def test_idle_host_pools_beyond_the_limit_are_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client_module, "MAX_HOST_POOLS", 1)
    names = {"a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"]}
    async with LocalPeer() as peer, local_client(names) as client:
        await client.get(f"http://a.test:{peer.port}/")
        await client.get(f"http://b.test:{peer.port}/")
        await peer.wait_closed_connections(1)  # a.test's kept-alive connection
        assert (peer.connections, peer.closed) == (2, 1)


async def test_host_pool_with_a_request_in_flight_is_not_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client_module, "MAX_HOST_POOLS", 1)
    names = {"a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"], "c.test": ["127.0.0.1"]}
    async with LocalPeer(delay=0.3) as slow, LocalPeer() as fast, local_client(names) as client:
        # Given a slow request to a.test in flight
        in_flight = asyncio.create_task(client.get(f"http://a.test:{slow.port}/"))
        await asyncio.sleep(0.05)
        # When requests to two other hosts push the pool count over the limit
        await client.get(f"http://b.test:{fast.port}/")
        await client.get(f"http://c.test:{fast.port}/")
        # Then the slow request still completes
        assert (await asyncio.wait_for(in_flight, 1)).status == 200
    assert slow.seen[0].host == f"a.test:{slow.port}"


async def test_next_checked_address_is_tried_when_the_first_does_not_connect() -> None:
    # Nothing listens on 127.0.0.2 at the peer's port: the connection is refused at once.
    async with (
        LocalPeer() as peer,
        local_client({"peer.test": ["127.0.0.2", "127.0.0.1"]}) as client,
    ):
        response = await client.get(f"http://peer.test:{peer.port}/")
    assert response.status == 200
    assert [s.local for s in peer.seen] == ["127.0.0.1"]


async def test_slow_real_server_triggers_the_time_out() -> None:
    policy = FetchPolicy(
        allow_http=True, allowed_private_networks=("127.0.0.0/8",), total_timeout=0.3
    )
    loop = asyncio.get_running_loop()
    async with LocalPeer(delay=3) as peer, local_client(LOOPBACK_NAMES, policy) as client:
        started = loop.time()
        with pytest.raises(FetchError, match="timed out") as caught:
            await client.get(f"http://peer.test:{peer.port}/")
        elapsed = loop.time() - started
    assert caught.value.retryable
    assert 0.25 < elapsed < 1.5


async def test_total_time_out_bounds_a_server_that_drips_its_body() -> None:
    # Each byte arrives well within a read time-out; only the whole-request deadline stops it.
    policy = FetchPolicy(
        allow_http=True, allowed_private_networks=("127.0.0.0/8",), total_timeout=0.4
    )
    async with LocalPeer(drip=True) as peer, local_client(LOOPBACK_NAMES, policy) as client:
        with pytest.raises(FetchError, match="timed out") as caught:
            await client.get(f"http://peer.test:{peer.port}/")
    assert caught.value.retryable


# --- Real TLS -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalCA:
    cert_pem: bytes
    key: ec.EllipticCurvePrivateKey

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self.cert_pem.decode())

    def server_context(self, directory: Path, *names: str) -> ssl.SSLContext:
        """A server context with a certificate for ``names``, signed by this CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            _builder(names[0], key.public_key(), self.issuer)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
            .sign(self.key, hashes.SHA256())
        )
        cert_file, key_file = directory / f"{names[0]}.crt", directory / f"{names[0]}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context

    @property
    def issuer(self) -> x509.Name:
        return x509.load_pem_x509_certificate(self.cert_pem).subject


def _builder(
    common_name: str, public_key: ec.EllipticCurvePublicKey, issuer: x509.Name | None = None
) -> x509.CertificateBuilder:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
    )


@pytest.fixture(scope="module")
def local_ca() -> LocalCA:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder("Starling test CA", key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        )
        .sign(key, hashes.SHA256())
    )
    return LocalCA(cert.public_bytes(serialization.Encoding.PEM), key)


TLS_POLICY = FetchPolicy(allowed_private_networks=("127.0.0.0/8",))  # https only, like production


def tls_client(ca: LocalCA, names: dict[str, list[str]]) -> SafeClient:
    return SafeClient(TLS_POLICY, resolver=resolver_for(names), ssl_context=ca.client_context())


async def test_tls_to_a_pinned_address_uses_the_hostname_for_sni_and_certificate(
    local_ca: LocalCA, tmp_path: Path
) -> None:
    server = local_ca.server_context(tmp_path, "peer.test")
    async with LocalPeer(tls=server) as peer, tls_client(local_ca, LOOPBACK_NAMES) as client:
        document, _url = await client.get_json(f"https://peer.test:{peer.port}/users/a")
    assert document == {"host": f"peer.test:{peer.port}"}
    assert peer.sni == ["peer.test"]
    assert peer.seen[0].local == "127.0.0.1"


async def test_tls_certificate_for_another_name_is_refused(
    local_ca: LocalCA, tmp_path: Path
) -> None:
    server = local_ca.server_context(tmp_path, "other.test")
    async with LocalPeer(tls=server) as peer, tls_client(local_ca, LOOPBACK_NAMES) as client:
        with pytest.raises(FetchError, match="certificate"):
            await client.get(f"https://peer.test:{peer.port}/")
    assert peer.seen == []


async def test_hostnames_sharing_an_address_do_not_share_a_tls_connection(
    local_ca: LocalCA, tmp_path: Path
) -> None:
    # Given a server whose certificate is only for a.test, reached once over a kept-alive connection
    server = local_ca.server_context(tmp_path, "a.test")
    client = tls_client(local_ca, {"a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"]})
    async with LocalPeer(tls=server) as peer, client:
        await client.get(f"https://a.test:{peer.port}/")
        # When b.test, at the same address, is fetched
        # Then it gets its own connection, whose certificate check fails
        with pytest.raises(FetchError, match="certificate"):
            await client.get(f"https://b.test:{peer.port}/")
    assert [s.host for s in peer.seen] == [f"a.test:{peer.port}"]
    assert peer.sni == ["a.test", "b.test"]


async def test_proxy_settings_in_the_environment_are_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A proxy would resolve names itself, after our check (a regression guard: httpx ignores
    # environment proxies once given a transport). Nothing listens on port 9.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    async with LocalPeer() as peer, local_client(LOOPBACK_NAMES) as client:
        assert (await client.get(f"http://peer.test:{peer.port}/")).status == 200
    assert len(peer.seen) == 1


def test_ipaddress_agrees_the_test_public_addresses_are_global() -> None:
    # Guards the fixtures above: documentation ranges (203.0.113/24…) are not global.
    assert ipaddress.ip_address(PUBLIC_IP).is_global
    assert ipaddress.ip_address(PUBLIC_IP_2).is_global
