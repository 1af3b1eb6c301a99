"""``starling run`` as one process: Hypercorn serving in the supervising process, the arq
worker in the same event loop (``server.workers = 1`` and ``worker.embedded``).

A small instance then holds one interpreter and one copy of the application instead of four
(supervisor, Hypercorn master and worker, multiprocessing's resource tracker, arq worker).
The supervisor's promises hold as in :mod:`instance.supervisor`: the socket bound before
anything starts is the one served, "running at" is printed once ``/health`` answers, and
SIGINT or SIGTERM stops the jobs, then the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import signal
import socket
from typing import Any

import httpx
import uvloop
from hypercorn.asyncio import serve
from hypercorn.config import Config

from instance.app import create_app
from instance.config import Settings
from instance.supervisor import POLL_SECONDS, READY_TIMEOUT, REPORTED, say
from services.backends import Backends
from workers.settings import build_workers, run_until_stopped

log = logging.getLogger(__name__)

TRIM_EVERY_SECONDS = 10.0
SEARCH_IDLE_SECONDS = 30.0  # the index's searchers are closed after this long without a query


def hypercorn_config(listener: socket.socket) -> Config:
    """Hypercorn's settings for serving on ``listener`` (which it owns from then on)."""
    config = Config()
    config.bind = [f"fd://{listener.detach()}"]
    config.accesslog = None
    # A logger, not "-": Hypercorn's lines then go through our handler (JSON when configured).
    config.errorlog = logging.getLogger("hypercorn.error")
    return config


def serve_embedded(settings: Settings, listener: socket.socket, url: str, running: str) -> int:
    """Serve and run the jobs until told to stop; returns ``starling run``'s exit code."""
    return uvloop.run(_serve(settings, listener, url, running))


def _quiet_cancellations(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """On Ctrl-C, Hypercorn cancels the connections still open (a browser's live stream, a
    kept-alive socket), and asyncio's stream callback reports each cancellation with a
    traceback: that is the shutdown working, not an error."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


async def _serve(settings: Settings, listener: socket.socket, url: str, running: str) -> int:
    stop = asyncio.Event()  # Ctrl-C or SIGTERM
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_quiet_cancellations)
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    server_stop = asyncio.Event()  # set once the jobs have stopped: they use its connections
    app = create_app(settings)
    config = hypercorn_config(listener)
    server = asyncio.create_task(serve(app, config, shutdown_trigger=server_stop.wait))  # type: ignore[arg-type]
    jobs: asyncio.Task[None] | None = None
    trimming: asyncio.Task[None] | None = None
    failed = False
    try:
        if not await _until_answering(url, server, stop):
            failed = not stop.is_set()  # else Ctrl-C while starting: stopped, as asked
            return REPORTED if failed else 0
        # The app has opened the ORM connections by now; the jobs share them.
        jobs = asyncio.create_task(run_until_stopped(build_workers(settings), stop))
        trimming = asyncio.create_task(_trim_forever(app.extensions["starling"]))
        print(running, flush=True)
        return await _until_one_ends(server, jobs, stop)
    finally:
        stop.set()
        if trimming is not None:
            trimming.cancel()
        if jobs is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await jobs  # its failure, if any, was reported above
        server_stop.set()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await server  # cancelled when it never answered
        if not failed:
            print("starling: stopped", flush=True)


async def _until_answering(url: str, server: asyncio.Task[None], stop: asyncio.Event) -> bool:
    """True once ``url`` answers 200; False if the server ended first (said why) or we were
    told to stop."""
    deadline = loop_time() + READY_TIMEOUT
    async with httpx.AsyncClient(timeout=1, trust_env=False) as client:
        while loop_time() < deadline and not stop.is_set():
            if server.done():
                _report_end("web server", server, "before the instance answered")
                return False
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)
    if not stop.is_set():
        say(f"the web server did not answer at {url} within {READY_TIMEOUT:.0f} s")
        server.cancel()
    return False


async def _until_one_ends(
    server: asyncio.Task[None], jobs: asyncio.Task[None], stop: asyncio.Event
) -> int:
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([server, jobs, stopping], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if stop.is_set():
        return 0
    name, task = ("web server", server) if server.done() else ("worker", jobs)
    _report_end(name, task, "; stopping the rest")
    return 1


def _report_end(name: str, task: asyncio.Task[None], when: str) -> None:
    """One line: which part stopped, when, and how (a failure's traceback is logged)."""
    error = None if task.cancelled() else task.exception()
    if error is not None:
        log.error("the %s failed", name, exc_info=error)
    how = f"failed with {type(error).__name__}" if error is not None else "ended"
    if when.startswith(";"):
        say(f"the {name} stopped ({how}){when}")
    else:
        say(f"the {name} stopped {when} ({how}); see above")


async def _trim_forever(backends: Backends) -> None:
    """Now and then, close the search index when nobody searched for a while, and hand the
    heap's free pages back to the system: glibc keeps them, so a burst of jobs (an index
    build, a big fan-out) would leave the process that much bigger for good, and here the
    jobs share the web server's process."""
    try:
        # The symbols already loaded (libc among them): find_library would run ldconfig.
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc: the searchers are still released
        trim = None
    while True:
        await asyncio.sleep(TRIM_EVERY_SECONDS)
        if backends.search is not None:
            await backends.search.release_if_idle(SEARCH_IDLE_SECONDS)
        if trim is not None:
            trim(0)


def loop_time() -> float:
    return asyncio.get_running_loop().time()
