"""The cache client's hiredis packing sends what redis-py's own asyncio packer would."""

from __future__ import annotations

import pytest
from redis.asyncio.connection import Connection

from services import redisclient

COMMANDS = [
    ("EVALSHA", "9a563df1", 2, "tl:home:{1}", "tl:home-boosts:{1}", 1796164569504, "", 0.5),
    ("SET", b"post:2:1", b'{"id":1,"text":"caf\xc3\xa9 \xf0\x9f\x90\xa6"}', "EX", 3600, "NX"),
    ("CLIENT SETNAME", "starling"),  # a two-word command name is split, as redis-py does
    ("MGET", *[f"account:2:{n}" for n in range(2000)]),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: str(command[0]))
def test_a_command_is_packed_into_the_same_bytes(command: tuple) -> None:
    packed = redisclient.from_url("redis://127.0.0.1:6379/0").connection_pool.make_connection()
    plain = Connection()

    assert b"".join(packed.pack_command(*command)) == b"".join(plain.pack_command(*command))


def test_each_scheme_keeps_its_transport() -> None:
    for url, base in (
        ("redis://127.0.0.1:6379/0", "Connection"),
        ("rediss://127.0.0.1:6380/0", "SSLConnection"),
        ("unix:///run/redis.sock?db=0", "UnixDomainSocketConnection"),
    ):
        connection = redisclient.from_url(url).connection_pool.make_connection()
        assert base in [cls.__name__ for cls in type(connection).__mro__]
