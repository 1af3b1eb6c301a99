"""A TCP proxy in front of an instance that can hold traffic: requests sent while it holds are
kept (bytes read, not forwarded) until it lets them through. Lets a test kill a sender while
its deliveries are in flight."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from tests.instances import free_port

CHUNK = 65536


class HoldingProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.waiting = 0  # chunks read from clients and not yet forwarded
        self._loop = asyncio.new_event_loop()
        self._passing = asyncio.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = threading.Event()
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> HoldingProxy:
        self._thread.start()
        if not self._started.wait(timeout=10):
            raise RuntimeError("proxy did not start")
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._passing.set()
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._started.set()
        self._loop.run_forever()
        # Close what is still open (connections held when the test ended).
        for writer in self._writers:
            writer.close()
        tasks = asyncio.all_tasks(self._loop)
        for task in tasks:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))

    def hold(self) -> None:
        self._loop.call_soon_threadsafe(self._passing.clear)

    def release(self) -> None:
        self._loop.call_soon_threadsafe(self._passing.set)

    def stop(self) -> None:
        def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            self._loop.stop()

        self._loop.call_soon_threadsafe(shutdown)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self._writers.add(client_w)
        try:
            upstream_r, upstream_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_w.close()
            return
        self._writers.add(upstream_w)
        await asyncio.gather(
            self._pipe(client_r, upstream_w, gated=True),
            self._pipe(upstream_r, client_w, gated=False),
            return_exceptions=True,
        )
        for writer in (client_w, upstream_w):
            writer.close()
            self._writers.discard(writer)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, gated: bool
    ) -> None:
        try:
            while chunk := await reader.read(CHUNK):
                if gated and not self._passing.is_set():
                    self.waiting += 1
                    await self._passing.wait()
                    self.waiting -= 1
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(ConnectionError, OSError, RuntimeError):
                if writer.can_write_eof():
                    writer.write_eof()
                else:
                    writer.close()
