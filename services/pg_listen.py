"""Postgres LISTEN on a connection of its own (a pooled one cannot hold a LISTEN), kept open:
reconnects when it drops, and says so once per outage rather than once per attempt."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 5.0


class Listener:
    """Calls ``on_notify(payload)`` for each NOTIFY on ``channel``, and ``on_connect()`` after
    every (re)connection, for whatever was missed while nobody listened."""

    def __init__(
        self,
        dsn: str,
        channel: str,
        on_notify: Callable[[str], None],
        on_connect: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.dsn, self.channel = dsn, channel
        self._on_notify, self._on_connect = on_notify, on_connect
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()  # set while a LISTEN is in place

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        failing = False
        while True:
            try:
                connection = await asyncpg.connect(self.dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                if not failing:
                    log.warning("cannot LISTEN %s: %s", self.channel, exc)
                failing = True
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            failing = False
            try:
                await self._listen(connection)
            finally:
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await connection.close()

    async def _listen(self, connection: asyncpg.Connection) -> None:
        closed = asyncio.Event()
        connection.add_termination_listener(lambda _connection: closed.set())
        await connection.add_listener(self.channel, self._notified)
        self.listening.set()
        if self._on_connect is not None:
            await self._on_connect()
        while not connection.is_closed():  # the termination listener, and a look now and then
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closed.wait(), RECONNECT_SECONDS)

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        self._on_notify(payload)
