"""The ``starling`` command as an operator uses it."""

import re
import subprocess
import sys

import httpx
import pytest

from tests.instances import ROOT, instance_database_url, start_instance
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
    assert instance.stop() == 0
    log = instance.log()
    assert f"running at {instance.base_url}" in log
    assert "starling: stopped" in log


@pytest.fixture
async def configured_instance(service_urls, tmp_path):
    """An instance whose scheme comes from the committed config.toml alone (no override)."""
    server_url, redis_server_url = service_urls
    database_url = instance_database_url(server_url, "urls")
    await drop_database(database_url)
    redis_url = redis_url_with_db(redis_server_url, URLS_REDIS_DB)
    running = start_instance(
        "urls", database_url, redis_url, tmp_path, extra_env={"STARLING_INSTANCE_HTTPS": None}
    )
    yield running
    running.stop()
    await drop_database(database_url)


def test_create_user_mints_the_urls_the_running_instance_serves(configured_instance):
    instance = configured_instance
    assert "STARLING_INSTANCE_HTTPS" not in instance.env
    served = re.search(r"running at (\S+)", instance.log()).group(1)  # what `run` printed

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
