"""The one HTTP client for every request Starling makes to other servers.

Fetching actors, objects, WebFinger and NodeInfo documents and POSTing deliveries all go through
:class:`SafeClient`, which enforces a :class:`FetchPolicy`: https only, time-outs for the whole
request, a response size limit, a redirect limit, and no private, loopback or link-local
addresses (server-side request forgery: a remote actor must not make us fetch
``http://169.254.169.254/`` or an admin page on localhost).

Addresses are checked after DNS resolution, and the connection goes to the address that was
checked (the request URL is rewritten to that IP, with the original ``Host`` header and the TLS
server name and certificate check kept for the hostname), so a name that resolves to a public
address for the check and to 127.0.0.1 for the connection (DNS rebinding) cannot get through.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import json
import logging
import socket
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType

import httpx

from activitypub import vocab
from activitypub.errors import FetchError, ResponseTooLarge, UnsafeURL

logger = logging.getLogger(__name__)

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}
# NAT64 (RFC 6052) embeds an IPv4 address in the last 32 bits; its prefix sits in ::/8, which
# Python calls reserved, so without this an IPv6-only host behind DNS64 could reach no one.
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
# Idle per-host connection pools kept before the least recently used are closed.
MAX_HOST_POOLS = 512


@dataclass(frozen=True)
class FetchPolicy:
    """What outgoing requests may do. The defaults are production's: https, public addresses."""

    allow_http: bool = False
    allowed_private_networks: tuple[str, ...] = ()  # CIDRs, e.g. "127.0.0.0/8" in tests
    connect_timeout: float = 5.0
    total_timeout: float = 15.0  # a whole request, connect to last byte, redirects included
    max_response_bytes: int = 2 * 1024 * 1024
    max_redirects: int = 3
    user_agent: str = "Starling"

    def __post_init__(self) -> None:
        # Fail when the policy is built, not on the first request, if a CIDR is malformed.
        _networks(self.allowed_private_networks)


@dataclass(frozen=True)
class Response:
    """A peer's complete answer; ``url`` is the final URL after redirects (never the IP)."""

    status: int
    url: str
    headers: httpx.Headers
    body: bytes

    def json(self) -> object:
        """The body parsed as JSON; a body that is not JSON will not become JSON on retry."""
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
            raise FetchError(f"{self.url}: body is not JSON ({exc})", retryable=False) from None

    def raise_for_status(self) -> None:
        """Raise a :class:`FetchError` unless the status is 2xx; 408, 429 and 5xx are retryable."""
        if not 200 <= self.status < 300:
            raise FetchError(
                f"{self.url}: HTTP {self.status}",
                status=self.status,
                retryable=self.status in (408, 429) or self.status >= 500,
            )


# --- Addresses -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _parse_ip(address: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _tunnelled_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address a 6to4 or NAT64 address leads to, if it is one."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _is_special(ip: IPAddress) -> bool:
    """Whether ``ip`` is anything but a public unicast address."""
    site_local = isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local
    return (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or site_local
    )


def is_refused_address(address: str, policy: FetchPolicy) -> bool:
    """Whether we refuse to connect to ``address``: private, loopback, link-local, multicast,
    reserved, unspecified, shared (100.64/10), or an IPv6 form of one of those (IPv4-mapped,
    6to4, NAT64), unless it is inside ``policy.allowed_private_networks``. Not an IP: refused."""
    ip = _parse_ip(address)
    if ip is None:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # on a dual-stack socket ::ffff:127.0.0.1 *is* 127.0.0.1
    if any(ip in network for network in _networks(policy.allowed_private_networks)):
        return False
    tunnelled = _tunnelled_ipv4(ip)
    if tunnelled is not None:
        return is_refused_address(str(tunnelled), policy)
    return _is_special(ip)


# --- URLs and names --------------------------------------------------------------------------


def check_url(url: str, policy: FetchPolicy) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a URL we may fetch, the host in ASCII (IDNA) form.

    Refuses (:class:`UnsafeURL`) a scheme other than http(s), http unless allowed, userinfo
    (``https://user:pass@host/`` smuggles credentials and confuses parsers), a missing host, and
    an IP-literal host in a refused range. Names are checked later, once resolved."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeURL(f"{url!r} is not a valid URL ({exc})") from None
    scheme = parsed.scheme
    if scheme not in DEFAULT_PORTS:
        raise UnsafeURL(f"{url!r}: scheme {scheme!r} is not http(s)")
    if scheme == "http" and not policy.allow_http:
        raise UnsafeURL(f"{url!r}: plain http is not allowed")
    if parsed.userinfo:
        raise UnsafeURL(f"{url!r}: credentials in the URL are not allowed")
    host = parsed.raw_host.decode("ascii").lower()
    if not host:
        raise UnsafeURL(f"{url!r} has no host")
    if _parse_ip(host) is not None and is_refused_address(host, policy):
        raise UnsafeURL(f"{url!r}: address {host} is refused")
    return scheme, host, parsed.port or DEFAULT_PORTS[scheme]


async def _system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host``, in the order the system prefers, without duplicates."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def _resolve_all_checked(
    host: str, port: int, policy: FetchPolicy, resolver: Resolver | None
) -> list[str]:
    """Every address of ``host``, all of them allowed, or an error."""
    if _parse_ip(host) is not None:
        addresses = [host]
    else:
        try:
            addresses = await (resolver or _system_resolver)(host, port)
        except OSError as exc:  # socket.gaierror: no such name, or no resolver right now
            raise FetchError(f"{host}: cannot resolve ({exc})", retryable=True) from exc
    if not addresses:
        raise FetchError(f"{host}: resolves to no address", retryable=True)
    refused = [address for address in addresses if is_refused_address(address, policy)]
    if refused:
        # All or nothing: otherwise a peer could list 127.0.0.1 next to a public address.
        raise UnsafeURL(f"{host} resolves to a refused address ({refused[0]})")
    return addresses


async def resolve_checked(
    host: str, port: int, policy: FetchPolicy, resolver: Resolver | None = None
) -> str:
    """The address to connect to for ``host``: :class:`UnsafeURL` if any address it resolves
    to is refused, a retryable :class:`FetchError` if it resolves to none."""
    return (await _resolve_all_checked(host, port, policy, resolver))[0]


# --- Transports ------------------------------------------------------------------------------


def _pinned(request: httpx.Request, host: str, address: str) -> httpx.Request:
    """``request`` sent to ``address`` instead of ``host``: same Host header (httpx set it when
    it built the request), and TLS server name (SNI and certificate check) still ``host``."""
    if address == host:
        return request
    return httpx.Request(
        request.method,
        request.url.copy_with(host=address),
        headers=request.headers,
        stream=request.stream,
        extensions={**request.extensions, "sni_hostname": host},
    )


class _HostPool:
    """One httpx transport (one connection pool) and how many responses are still open on it."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self.transport = httpx.AsyncHTTPTransport(
            verify=ssl_context,
            trust_env=False,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
        )
        self.active = 0


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body that tells its pool when it is closed, so the pool may be evicted."""

    def __init__(self, stream: httpx.AsyncByteStream, pool: _HostPool) -> None:
        self._stream = stream
        self._pool: _HostPool | None = pool

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._pool is not None:
                self._pool.active -= 1
                self._pool = None


class _HostPools:
    """Connection pools per (scheme, hostname, port).

    httpcore pools connections by origin, which after pinning is (scheme, IP, port) and not the
    TLS server name: in one shared pool, a connection opened (and its certificate checked) for
    a.example would be reused for b.example when both resolve to one address (a CDN, or a
    spoofed answer). One pool per hostname keeps every connection to the name it was checked for.
    """

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl_context = ssl_context
        self._pools: OrderedDict[tuple[str, str, int], _HostPool] = OrderedDict()

    async def send(
        self, key: tuple[str, str, int], request: httpx.Request, addresses: list[str]
    ) -> httpx.Response:
        """Send ``request`` to the first of ``addresses`` (all checked) that accepts a
        connection: the next one is tried only when connecting failed, so nothing was sent."""
        pool = self._checkout(key)
        try:
            await self._evict_idle()
            response = await self._send_first(pool, request, key[1], addresses)
        except BaseException:
            pool.active -= 1
            raise
        if not isinstance(response.stream, httpx.AsyncByteStream):  # httpx's transports always are
            raise TypeError(f"unexpected response stream {type(response.stream).__name__}")
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_ReleasingStream(response.stream, pool),
            extensions=response.extensions,
        )

    @staticmethod
    async def _send_first(
        pool: _HostPool, request: httpx.Request, host: str, addresses: list[str]
    ) -> httpx.Response:
        for address in addresses[:-1]:
            try:
                return await pool.transport.handle_async_request(_pinned(request, host, address))
            except httpx.ConnectError as exc:
                # Typically an AAAA record on a machine without IPv6 routes.
                logger.debug("connecting to %s at %s failed: %s", host, address, exc)
        return await pool.transport.handle_async_request(_pinned(request, host, addresses[-1]))

    def _checkout(self, key: tuple[str, str, int]) -> _HostPool:
        """The pool for ``key``, marked in use before anything awaits, so it is not evicted."""
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _HostPool(self._ssl_context)
        else:
            self._pools.move_to_end(key)
        pool.active += 1
        return pool

    async def _evict_idle(self) -> None:
        """Close the least recently used pools with no open response, beyond the limit."""
        if len(self._pools) <= MAX_HOST_POOLS:
            return
        for key in [key for key, pool in self._pools.items() if pool.active == 0]:
            if len(self._pools) <= MAX_HOST_POOLS:
                return
            pool = self._pools.get(key)
            if pool is not None and pool.active == 0:  # it may have changed while we awaited
                del self._pools[key]
                await pool.transport.aclose()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.transport.aclose()


class _GuardTransport(httpx.AsyncBaseTransport):
    """Checks every request httpx sends (redirect hops and auth retries included) and sends it
    to a checked address. With an injected transport (tests), checks the same way but hands the
    request on unchanged, so fakes still see the hostname URL."""

    def __init__(
        self,
        policy: FetchPolicy,
        resolver: Resolver | None,
        inner: httpx.AsyncBaseTransport | None,
        ssl_context: ssl.SSLContext,
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = inner
        self._pools = _HostPools(ssl_context)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        scheme, host, port = check_url(str(request.url), self._policy)
        addresses = await _resolve_all_checked(host, port, self._policy, self._resolver)
        if self._inner is not None:
            return await self._inner.handle_async_request(request)
        return await self._pools.send((scheme, host, port), request, addresses)

    async def aclose(self) -> None:
        await self._pools.aclose()
        if self._inner is not None:
            await self._inner.aclose()


# --- The client ------------------------------------------------------------------------------


async def _read_limited(response: httpx.Response, limit: int, url: str) -> bytes:
    """The (decoded) body, refused as soon as it is known to exceed ``limit`` bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge(f"{url}: Content-Length {declared} is over {limit} bytes")
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            raise ResponseTooLarge(f"{url}: body is over {limit} bytes")
    return bytes(body)


def _redirect_target(url: str, location: str, policy: FetchPolicy) -> str:
    """The absolute URL a redirect leads to, checked like any other."""
    try:
        target = str(httpx.URL(url).join(location).copy_with(fragment=None))
    except httpx.InvalidURL as exc:
        raise FetchError(
            f"{url}: bad redirect Location {location!r} ({exc})", retryable=False
        ) from exc
    check_url(target, policy)
    return target


class SafeClient:
    """The outbound HTTP client: one connection pool per peer host, every request checked.

    ``transport`` replaces the network (an ``httpx.MockTransport`` in tests); URL and address
    checks still run, with ``resolver`` deciding what a name resolves to. ``ssl_context``
    replaces the default CA bundle (tests with a local CA)."""

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._policy = policy
        guard = _GuardTransport(
            policy, resolver, transport, ssl_context or httpx.create_ssl_context()
        )
        self._client = httpx.AsyncClient(
            transport=guard,
            headers={"User-Agent": policy.user_agent},
            timeout=httpx.Timeout(policy.total_timeout, connect=policy.connect_timeout),
            follow_redirects=False,  # we follow them ourselves, re-checking and re-signing
            trust_env=False,  # no proxy from the environment: it would resolve names for us
        )

    async def __aenter__(self) -> SafeClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> Response:
        """GET ``url``, following redirects; the final response whatever its status."""
        return await self._within_deadline("GET", url, None, headers, auth)

    async def post(
        self,
        url: str,
        content: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> Response:
        """POST ``content`` to ``url``; the response whatever its status. Redirects are not
        followed (a delivery that is redirected was not delivered)."""
        return await self._within_deadline("POST", url, content, headers, auth)

    async def get_json(
        self, url: str, *, accept: str = vocab.ACCEPT, auth: httpx.Auth | None = None
    ) -> tuple[object, str]:
        """GET a JSON document: ``(document, final_url)``, or :class:`FetchError` unless 2xx."""
        response = await self.get(url, headers={"Accept": accept}, auth=auth)
        response.raise_for_status()
        return response.json(), response.url

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _within_deadline(
        self,
        method: str,
        url: str,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        auth: httpx.Auth | None,
    ) -> Response:
        """The whole exchange, redirects included, bounded by ``total_timeout``: httpx's own
        time-outs are per read, which a peer dripping one byte a second never trips."""
        check_url(url, self._policy)
        try:
            async with asyncio.timeout(self._policy.total_timeout):
                if method == "POST":
                    return await self._send_one(method, url, content, headers, auth)
                return await self._follow(url, headers, auth)
        except TimeoutError as exc:
            raise FetchError(f"{method} {url}: timed out", retryable=True) from exc

    async def _follow(
        self, url: str, headers: Mapping[str, str] | None, auth: httpx.Auth | None
    ) -> Response:
        """GET ``url`` and up to ``max_redirects`` redirects, each hop checked and signed anew."""
        first = url
        for hops in range(self._policy.max_redirects + 1):
            response = await self._send_one("GET", url, None, headers, auth)
            location = response.headers.get("Location")
            if response.status not in REDIRECT_STATUSES or not location:
                return response
            if hops == self._policy.max_redirects:
                break
            url = _redirect_target(url, location, self._policy)
            logger.debug("redirect from %s to %s", response.url, url)
        raise FetchError(
            f"GET {first}: more than {self._policy.max_redirects} redirects", retryable=False
        )

    async def _send_one(
        self,
        method: str,
        url: str,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        auth: httpx.Auth | None,
    ) -> Response:
        """One request, no redirects. httpx builds it and runs ``auth`` on it, so a signer
        signs this hop's Host and request target."""
        request = self._client.build_request(method, url, content=content, headers=headers)
        try:
            response = await self._client.send(request, auth=auth, stream=True)
            try:
                body = await _read_limited(response, self._policy.max_response_bytes, url)
            finally:
                await response.aclose()
        except httpx.DecodingError as exc:  # a corrupt gzip body stays corrupt
            raise FetchError(f"{method} {url}: bad body encoding ({exc})", retryable=False) from exc
        except httpx.TransportError as exc:  # time-outs, refused or reset connections, TLS
            raise FetchError(f"{method} {url}: {type(exc).__name__} {exc}", retryable=True) from exc
        return Response(status=response.status_code, url=url, headers=response.headers, body=body)
