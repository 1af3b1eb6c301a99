"""The ``starling`` command as an operator uses it."""

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.instances import (
    ROOT,
    START_TIMEOUT,
    free_port,
    instance_database_url,
    instance_env,
    spawn,
    start_instance,
)
from tests.support import drop_database, redis_url_with_db

URLS_REDIS_DB = 11


def starling(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "instance.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_every_command_has_help():
    for command in ("run", "web", "worker", "migrate", "create-user"):
        result = starling(command, "--help", env={})
        assert result.returncode == 0, result.stderr
        assert "usage: starling" in result.stdout


def test_invalid_setting_stops_start_up_with_one_line_naming_the_key(instance):
    env = {**instance.env, "STARLING_SERVER_PORT": "eighty"}
    result = starling("migrate", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "server.port (STARLING_SERVER_PORT)" in result.stderr


def test_created_user_appears_on_the_running_instance(instance):
    result = starling(
        "create-user", "opal", "opal@example.com", "--password", "long enough pw", "--admin",
        env=instance.env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "created admin @opal" in result.stdout
    response = httpx.get(f"{instance.base_url}/api/v1/accounts/lookup", params={"acct": "opal"})
    assert response.status_code == 200
    assert response.json()["username"] == "opal"


def test_create_user_refuses_a_taken_name(instance):
    args = ("create-user", "ruby", "ruby@example.com", "--password", "long enough pw")
    assert starling(*args, env=instance.env).returncode == 0
    again = starling(
        "create-user", "RUBY", "r2@example.com", "--password", "x" * 9, env=instance.env
    )
    assert again.returncode == 2
    assert "taken" in again.stderr


def test_run_stops_web_and_worker_on_ctrl_c(instance):
    instance.wait_for_log(f"running at {re.escape(instance.base_url)}")
    # A browser's live stream is open as the operator presses Ctrl-C
    with httpx.stream("GET", f"{instance.base_url}/api/v1/streaming/public", timeout=30) as live:
        assert next(live.iter_bytes()) == b":)\n\n"
        assert instance.stop() == 0  # the stream does not hold the shutdown up
    log = instance.log()
    assert "starling: stopped" in log


async def _fresh_urls(service_urls, name: str, redis_db: int) -> tuple[str, str]:
    """The database URL of instance ``name`` (dropped, so fresh) and a Redis database URL."""
    server_url, redis_server_url = service_urls
    database_url = instance_database_url(server_url, name)
    await drop_database(database_url)
    return database_url, redis_url_with_db(redis_server_url, redis_db)


@pytest.fixture
async def configured_instance(service_urls, tmp_path):
    """An instance whose scheme comes from the committed config.toml alone (no override)."""
    database_url, redis_url = await _fresh_urls(service_urls, "urls", URLS_REDIS_DB)
    running = start_instance(
        "urls", database_url, redis_url, tmp_path, extra_env={"STARLING_INSTANCE_HTTPS": None}
    )
    yield running
    running.stop()
    await drop_database(database_url)


def test_create_user_mints_the_urls_the_running_instance_serves(configured_instance):
    instance = configured_instance
    assert "STARLING_INSTANCE_HTTPS" not in instance.env
    served = instance.wait_for_log(r"running at (\S+)").group(1)  # what `run` printed

    result = starling(
        "create-user", "opal", "opal@example.com", "--password", "long enough pw",
        env=instance.env,
    )  # fmt: skip

    # Then the account's actor id, minted by the command, is on the URL the instance serves
    assert result.returncode == 0, result.stderr
    finger = httpx.get(
        f"http://{instance.domain}/.well-known/webfinger",
        params={"resource": f"acct:opal@{instance.domain}"},
    ).json()
    actor_id = next(link["href"] for link in finger["links"] if link["rel"] == "self")
    assert actor_id == f"{served}/users/opal"
    actor = httpx.get(actor_id, headers={"Accept": "application/activity+json"}).json()
    assert actor["inbox"] == f"{served}/users/opal/inbox"
    assert actor["publicKey"]["id"] == f"{served}/users/opal#main-key"


# The first hour: what `starling run` and the other commands say as they start, or cannot.

START_REDIS_DB = 10
COMMANDS = {
    "run": (),
    "web": (),
    "worker": (),
    "migrate": (),
    "create-user": ("opal", "opal@example.com", "--password", "long enough pw"),
    "reindex": (),
}


@pytest.fixture
async def own_env(service_urls, tmp_path):
    """The environment of an instance of the test's own on a free port (database dropped after)."""
    database_url, redis_url = await _fresh_urls(service_urls, "start", START_REDIS_DB)
    yield instance_env("start", database_url, redis_url, tmp_path, port=free_port())
    await drop_database(database_url)


def _wait_for(process: subprocess.Popen[bytes], log: Path, pattern: str) -> re.Match[str]:
    """The first match of ``pattern`` in the log, as soon as it is written."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if found := re.search(pattern, log.read_text(errors="replace")):
            return found
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode} before {pattern!r}:\n{log.read_text()}")
        time.sleep(0.02)
    pytest.fail(f"no {pattern!r} within {START_TIMEOUT} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    return process.wait(timeout=60)


def test_running_at_is_printed_once_the_instance_answers(own_env, tmp_path):
    log = tmp_path / "run.log"
    process = spawn("run", own_env, log)
    try:
        url = _wait_for(process, log, r"is running at (\S+)").group(1)

        # A script that waits for the line and then connects, at once, without retrying
        response = httpx.get(f"{url}/api/v1/instance", timeout=10)

        assert response.status_code == 200
    finally:
        assert _stop(process) == 0


def test_a_second_instance_on_a_taken_port_says_so_in_one_line(instance):
    port = instance.env["STARLING_SERVER_PORT"]
    for command in ("run", "web"):
        result = starling(command, env=instance.env)

        assert result.returncode == 2, command
        assert result.stderr.strip().count("\n") == 0, result.stderr
        assert f"127.0.0.1:{port} is already in use" in result.stderr
        assert "STARLING_SERVER_PORT" in result.stderr
        assert "server.port" in result.stderr
        assert "running at" not in result.stdout
    # and the first instance is untouched
    assert httpx.get(f"{instance.base_url}/health").status_code == 200


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize(
    ("variable", "setting", "url"),
    [
        ("STARLING_DATABASE_URL", "database.url", "postgres://postgres@127.0.0.1:{port}/starling"),
        ("STARLING_REDIS_URL", "redis.url", "redis://127.0.0.1:{port}/0"),
    ],
    ids=["postgres", "redis"],
)
def test_a_configured_service_that_does_not_answer_is_one_line(
    own_env, command, variable, setting, url
):
    closed = free_port()  # nothing listens there
    env = {**own_env, variable: url.format(port=closed)}

    result = starling(command, *COMMANDS[command], env=env)

    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert f"127.0.0.1:{closed}" in result.stderr
    assert f"{setting}, {variable}" in result.stderr
    assert "running at" not in result.stdout


def _child(process: subprocess.Popen[bytes], command: str) -> psutil.Process:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        for child in psutil.Process(process.pid).children():
            if command in child.cmdline():
                return child
        time.sleep(0.01)
    pytest.fail(f"no {command} child appeared")


def test_a_web_server_that_dies_while_starting_is_reported_not_announced(own_env, tmp_path):
    log = tmp_path / "run.log"
    # The web server and the worker in processes of their own (one process has no child to die)
    process = spawn("run", {**own_env, "STARLING_WORKER_EMBEDDED": "false"}, log)
    try:
        # When the web server dies (here: killed, with whatever it started) before it answers
        web = _child(process, "web")
        web.suspend()
        for doomed in [*web.children(recursive=True), web]:
            doomed.kill()

        # Then run says so, stops the worker and fails, never claiming to run
        code = process.wait(timeout=60)
    finally:
        _stop(process)
    output = log.read_text()
    assert code != 0
    assert "the web server stopped before the instance answered (killed by SIGKILL)" in output
    assert "running at" not in output
    assert "Traceback" not in output  # the worker, stopped while starting, goes quietly


def _tree(process: subprocess.Popen[bytes]) -> list[list[str]]:
    """The command lines of ``process``'s descendants, as ``ps`` would list them."""
    return [child.cmdline()[3:] for child in psutil.Process(process.pid).children(recursive=True)]


def test_a_small_instance_is_one_process_that_serves_and_runs_the_jobs(own_env, tmp_path):
    log = tmp_path / "run.log"
    process = spawn("run", own_env, log)  # the committed config: workers = 1, embedded jobs
    try:
        url = _wait_for(process, log, r"is running at (\S+)").group(1)

        # Then no child process at all: Hypercorn serves in it, and the jobs run in it too
        assert _tree(process) == []
        assert httpx.get(f"{url}/health").status_code == 200
        # (the search indexer's first job, run at start, builds the index)
        _wait_for(process, log, "search index built")
    finally:
        assert _stop(process) == 0
    assert "starling: stopped" in log.read_text()
    assert "Traceback" not in log.read_text()


def test_without_embedded_jobs_run_starts_one_web_process_and_one_worker(own_env, tmp_path):
    log = tmp_path / "run.log"
    process = spawn("run", {**own_env, "STARLING_WORKER_EMBEDDED": "false"}, log)
    try:
        _wait_for(process, log, r"is running at (\S+)")

        # One web process (no Hypercorn master, no multiprocessing helper) and one worker
        tree = _tree(process)
        assert sorted(command[0] for command in tree) == ["web", "worker"], tree
    finally:
        assert _stop(process) == 0


def test_worker_concurrency_must_be_a_positive_number(own_env):
    result = starling("worker", "--concurrency", "0", env=own_env)
    assert result.returncode == 2
    assert "--concurrency" in result.stderr
    assert "'0' is not a whole number of 1 or more" in result.stderr
