"""``starling run``'s supervision: the web server's socket, its children, and the moment the
instance really answers.

The supervisor binds the web address itself before anything starts, so a taken port is one
line, not a traceback from a child; Hypercorn then serves on that very socket (``fd://``), so
nothing can take the port in between. "running at" is printed only once ``/health`` answers.
"""

from __future__ import annotations

import contextlib
import errno
import signal
import socket
import subprocess
import sys
import time

import httpx

# A ``starling`` command exiting with this code has already said why, in one line.
REPORTED = 2
READY_TIMEOUT = 60.0  # seconds for migrated children to answer; they usually take one or two
POLL_SECONDS = 0.1
STOP_TIMEOUT = 15.0

Children = dict[str, "subprocess.Popen[bytes]"]


class StartFailed(Exception):
    """The instance could not start; the message is one line."""


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listen_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not yet listening: Hypercorn does that)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        # As Hypercorn binds: a port still in TIME_WAIT from the previous run counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartFailed(_bind_failure(host, port, exc)) from None
    return sock


def _bind_failure(host: str, port: int, exc: OSError) -> str:
    where = _host_port(host, port)
    if exc.errno == errno.EADDRINUSE:
        return (
            f"{where} is already in use (is Starling already running?): stop that, or choose"
            " another port with STARLING_SERVER_PORT or server.port in config.toml"
        )
    return (
        f"cannot listen on {where} ({exc.strerror or exc}): check server.host"
        " (STARLING_SERVER_HOST) and server.port (STARLING_SERVER_PORT)"
    )


def health_url(sock: socket.socket) -> str:
    """Where the supervisor asks whether the web server answers: the bound address itself
    (a wildcard address is reached over loopback)."""
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):  # noqa: S104 - comparing, not binding
        host = "127.0.0.1" if host == "0.0.0.0" else "::1"  # noqa: S104
    return f"http://{_host_port(host, port)}/health"


def supervise(children: Children, url: str, running_line: str) -> int:
    """Wait until ``url`` answers and print ``running_line``; then wait until a child exits or
    we are told to stop, and stop the others. Returns ``starling run``'s exit code."""

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # Explicitly, for both: a shell starts background jobs with SIGINT ignored, and Python
    # then never raises KeyboardInterrupt.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    failed = False
    try:
        _wait_until_answering(children, url)
        print(running_line, flush=True)
        name, child = _first_exit(children)
        say(f"the {name} stopped ({_how(child.returncode)}); stopping the rest")
        return 1
    except StartFailed as exc:
        failed = True  # then the reason is the one line we print
        if str(exc):
            say(str(exc))
        return REPORTED
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(children)
        if not failed:
            print("starling: stopped", flush=True)


def _wait_until_answering(children: Children, url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        for name, child in children.items():
            if child.poll() is not None:
                raise StartFailed(_early_exit(name, child.returncode))
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1, trust_env=False).status_code == 200:
                return
        time.sleep(POLL_SECONDS)
    raise StartFailed(f"the web server did not answer at {url} within {READY_TIMEOUT:.0f} s")


def _early_exit(name: str, code: int) -> str:
    if code == REPORTED:
        return ""  # the child said why in its own one line
    return f"the {name} stopped before the instance answered ({_how(code)}); see above"


def _how(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def _first_exit(children: Children) -> tuple[str, subprocess.Popen[bytes]]:
    while True:
        for name, child in children.items():
            if child.poll() is not None:
                return name, child
        time.sleep(POLL_SECONDS * 5)


def _stop(children: Children) -> None:
    # SIGTERM: Hypercorn and the worker shut down gracefully on it, and a child still importing
    # its modules just ends (a SIGINT there would print a KeyboardInterrupt traceback).
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children.values():
        try:
            child.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def say(message: str) -> None:
    print(f"starling: {message}", file=sys.stderr, flush=True)
