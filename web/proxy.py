"""``X-Forwarded-For`` / ``X-Forwarded-Proto``, believed only from ``server.trusted_proxies``.

Behind Caddy or nginx every request comes from the proxy; the client's address (for rate
limits, ``/metrics`` access, logs) is in ``X-Forwarded-For``. Any client can send that header
too, so it counts only when the TCP peer is a configured proxy, and then only up to the first
address that is not one (read from the right: each proxy appends the peer it saw). Hypercorn's
ProxyFixMiddleware trusts a number of hops from anyone, hence this small ASGI wrapper.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = {"http": ("http", "ws"), "https": ("https", "wss")}


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    def __init__(self, app: Any, proxies: Iterable[str]) -> None:
        self.app = app
        self.networks = tuple(ipaddress.ip_network(p, strict=False) for p in proxies)

    def _trusted(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.networks)

    def _headers(self, scope: dict[str, Any], name: bytes) -> list[str]:
        values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k.lower() == name]
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    def client(self, peer: str, forwarded_for: list[str]) -> str:
        """The client's address: walk back from the peer while each hop is a trusted proxy."""
        candidate = _address(peer)
        for entry in reversed(forwarded_for):
            if not self._trusted(candidate):
                break
            hop = _address(entry)
            if hop is None:  # garbage in the header: stop at the last address we could read
                break
            candidate = hop
        return str(candidate) if candidate is not None else peer

    def _rewritten(self, scope: dict[str, Any]) -> dict[str, Any]:
        peer = scope["client"][0]
        if not self._trusted(_address(peer)):
            return scope
        scope = dict(scope)
        forwarded = self._headers(scope, b"x-forwarded-for")
        if forwarded:
            scope["client"] = (self.client(peer, forwarded), 0)
        protos = self._headers(scope, b"x-forwarded-proto")
        if protos and protos[-1].lower() in SCHEMES:
            http, ws = SCHEMES[protos[-1].lower()]
            scope["scheme"] = ws if scope["type"] == "websocket" else http
        return scope

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            scope = self._rewritten(scope)
        await self.app(scope, receive, send)
