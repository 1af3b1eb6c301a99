"""The ``starling`` command as an operator uses it."""

import subprocess
import sys

import httpx

from tests.instances import ROOT


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
