"""A minimal HTTP server that answers every request 202 at once and counts them: the peer the
delivery benchmark sends to, so what we measure is our side. Run: python -m bench.sink PORT."""

from __future__ import annotations

import asyncio
import sys

RESPONSE = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
COUNT_RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n{body}"


class Sink:
    def __init__(self) -> None:
        self.received = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                if head.startswith(b"GET /count"):
                    body = str(self.received)
                    writer.write(COUNT_RESPONSE.format(length=len(body), body=body).encode())
                else:
                    self.received += 1
                    writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def main(port: int) -> None:
    sink = Sink()
    server = await asyncio.start_server(sink.handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
