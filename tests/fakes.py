"""Remote servers faked over ``httpx.MockTransport``: they serve WebFinger and actor documents,
sign what their actors send, and record what we deliver to them (signature checked).

For integration tests of one instance; tests/federation/ uses real second instances instead.
The fakes sit behind the real SafeClient (every URL and address check still runs), with a
resolver that gives each fake host a public address.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from activitypub import signatures
from activitypub.client import FetchPolicy, SafeClient
from activitypub.errors import SignatureError
from activitypub.keys import KeyPair, generate_key_pair
from services.backends import Backends

PUBLIC_ADDRESS = "93.184.216.34"  # any public address: MockTransport answers, nothing leaves
_KEYS: list[KeyPair] = []


def _key(index: int) -> KeyPair:
    """RSA keys are slow to make: a few are made once and shared by every fake actor."""
    while len(_KEYS) <= index:
        _KEYS.append(generate_key_pair())
    return _KEYS[index]


@dataclass
class FakeActor:
    server: FakeServer
    username: str
    keys: KeyPair
    document: dict[str, Any]

    @property
    def id(self) -> str:
        return self.document["id"]

    @property
    def key_id(self) -> str:
        return f"{self.id}#main-key"

    def signed(self, url: str, body: bytes, **headers: str) -> dict[str, str]:
        """Headers of a POST of ``body`` to ``url`` signed by this actor (draft-cavage)."""
        base = {"Content-Type": "application/activity+json", **headers}
        return base | signatures.sign_headers(
            "POST", url, base, body, key_id=self.key_id, private_key_pem=self.keys.private_pem
        )

    def rotate_key(self, index: int) -> None:
        self.keys = _key(index)
        self.document["publicKey"]["publicKeyPem"] = self.keys.public_pem


@dataclass
class Received:
    url: str
    headers: httpx.Headers
    activity: dict[str, Any]
    verified: bool


@dataclass
class FakeServer:
    host: str
    actors: dict[str, FakeActor] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    inbox_status: int = 202

    @property
    def base(self) -> str:
        return f"https://{self.host}"

    def actor(
        self, username: str, key_index: int = 0, actor_id: str | None = None, **fields: Any
    ) -> FakeActor:
        actor_id = actor_id or f"{self.base}/users/{username}"
        document = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor_id,
            "type": "Person",
            "preferredUsername": username,
            "name": username.title(),
            "inbox": f"{actor_id}/inbox",
            "outbox": f"{actor_id}/outbox",
            "followers": f"{actor_id}/followers",
            "following": f"{actor_id}/following",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "url": f"{self.base}/@{username}",
            "manuallyApprovesFollowers": False,
            "publicKey": {
                "id": f"{actor_id}#main-key",
                "owner": actor_id,
                "publicKeyPem": _key(key_index).public_pem,
            },
            **fields,
        }
        actor = FakeActor(self, username, _key(key_index), document)
        self.actors[username] = actor
        self.documents[actor_id] = document
        return actor

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url).split("#", 1)[0]
        if request.method == "POST":
            return self._receive(request)
        if request.url.path == "/.well-known/webfinger":
            return self._finger(request)
        document = self.documents.get(url)
        if document is None:
            return httpx.Response(404, json={"error": "not found"})
        return httpx.Response(200, content=orjson.dumps(document),
                              headers={"Content-Type": "application/activity+json"})  # fmt: skip

    def _finger(self, request: httpx.Request) -> httpx.Response:
        resource = request.url.params.get("resource", "")
        username = resource.removeprefix("acct:").split("@", 1)[0]
        actor = self.actors.get(username)
        if actor is None:
            return httpx.Response(404)
        links = [{"rel": "self", "type": "application/activity+json", "href": actor.id}]
        return httpx.Response(200, json={"subject": f"acct:{username}@{self.host}", "links": links})

    def _receive(self, request: httpx.Request) -> httpx.Response:
        body = request.content
        verified = True
        try:
            signature = signatures.read_signature("POST", str(request.url), request.headers)
            signatures.check_request(signature, "POST", request.headers, body)
        except SignatureError:
            verified = False
        activity = orjson.loads(body)
        self.received.append(Received(str(request.url), request.headers, activity, verified))
        return httpx.Response(self.inbox_status)


@dataclass
class Fediverse:
    """Fake remote servers by host, behind one SafeClient."""

    servers: dict[str, FakeServer] = field(default_factory=dict)

    def server(self, host: str) -> FakeServer:
        return self.servers.setdefault(host, FakeServer(host))

    def handle(self, request: httpx.Request) -> httpx.Response:
        server = self.servers.get(request.url.netloc.decode())
        if server is None:
            raise httpx.ConnectError("no such host", request=request)
        return server.handle(request)

    def client(self) -> SafeClient:
        async def resolve(host: str, port: int) -> list[str]:
            return [PUBLIC_ADDRESS]

        transport = httpx.MockTransport(self.handle)
        return SafeClient(FetchPolicy(), transport=transport, resolver=resolve)

    def backends(self, backends: Backends) -> Backends:
        return dataclasses.replace(backends, http=self.client())
