"""A Lua script run by its SHA-1, computed once per process.

redis-py's ``register_script`` hashes the text each time it is called, and the hot reads call
a script on every page: a module-level ``Lua`` does it once, and loads the script into a Redis
that does not know it (a restart, a flush) on the first NOSCRIPT. A pipelined caller
(services/jobs) sends ``sha`` and loads ``text`` itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError


class Lua:
    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 - Redis names scripts so

    async def __call__(self, redis: Redis, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await redis.script_load(self.text)
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
