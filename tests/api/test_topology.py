"""Production topology: two web processes and two worker processes on one database and one
Redis behave as one of each (nothing but Postgres and Redis holds state)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import redis
from mastodon import Mastodon

from tests.instances import (
    ROOT,
    free_port,
    instance_database_url,
    instance_env,
    spawn,
    start_instance,
)
from tests.support import drop_database, redis_url_with_db

TOPOLOGY_REDIS_DB = 7
SCOPES = ["read", "write", "follow"]
PASSWORD = "a long password"
SETTLE_SECONDS = 30.0


def _migrate(env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "instance.cli", "migrate"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


class Deployment:
    """``starling web`` with ``web`` processes and ``workers`` ``starling worker`` processes."""

    def __init__(self, service_urls: tuple[str, str], tmp: Path, web: int, workers: int):
        server_url, redis_server_url = service_urls
        self.database_url = instance_database_url(server_url, f"topology_{web}_{workers}")
        self.redis_url = redis_url_with_db(redis_server_url, TOPOLOGY_REDIS_DB)
        asyncio.run(drop_database(self.database_url))
        with redis.Redis.from_url(self.redis_url) as client:
            client.flushdb()
        extra = {"STARLING_SERVER_WORKERS": str(web), "STARLING_WORKER_EMBEDDED": "false"}
        port = free_port()
        tmp.mkdir(parents=True, exist_ok=True)
        env = instance_env("topology", self.database_url, self.redis_url, tmp, port=port,
                           extra_env=extra)  # fmt: skip
        _migrate(env)
        self.web = start_instance("topology", self.database_url, self.redis_url, tmp,
                                  port=port, extra_env=extra, command="web")  # fmt: skip
        self.workers = [spawn("worker", self.web.env, self.web.log_path) for _ in range(workers)]

    def close(self) -> None:
        for worker in self.workers:
            _stop(worker)
        self.web.stop()
        asyncio.run(drop_database(self.database_url))

    def person(self, username: str) -> Mastodon:
        base = self.web.base_url
        with redis.Redis.from_url(self.redis_url) as client:  # one address signs all of them up
            for key in client.scan_iter("ratelimit:*"):
                client.delete(key)
        client_id, secret = Mastodon.create_app(username, api_base_url=base, scopes=SCOPES)
        api = Mastodon(client_id=client_id, client_secret=secret, api_base_url=base)
        api.create_account(
            username, PASSWORD, f"{username}@example.com", agreement=True, scopes=SCOPES
        )
        return api


def _home(api: Mastodon) -> list[str]:
    # The instance's own URL (its port) differs between deployments, and only that.
    return [s["content"].replace(api.api_base_url, "") for s in api.timeline_home(limit=40)]


def _notifications(api: Mastodon) -> list[tuple[str, str]]:
    return sorted((n["type"], n["account"]["username"]) for n in api.notifications(limit=40))


def _settled(read, expected_size: int):  # type: ignore[no-untyped-def]
    """``read()`` once it has ``expected_size`` entries (the jobs done), and still after a
    moment (a job run twice would add more)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while len(found := read()) < expected_size:
        assert time.monotonic() < deadline, found
        time.sleep(0.2)
    time.sleep(1.0)
    return read()


def _scenario(deployment: Deployment) -> dict[str, object]:
    """Follows, posts with a mention, a favourite; what each person then sees."""
    alice, bob, carol = (deployment.person(name) for name in ("alice", "bob", "carol"))
    alice_id = alice.me()["id"]
    bob.account_follow(alice_id)
    carol.account_follow(alice_id)
    carol.account_follow(bob.me()["id"])
    posts = [alice.status_post(f"alice says {n}") for n in range(3)]
    bob.status_post("bob says hi @carol")
    carol.status_favourite(posts[0]["id"])
    # Each read on a connection of its own: the kernel spreads them over the web processes.
    for _ in range(20):
        assert httpx.get(f"{deployment.web.base_url}/api/v1/instance").status_code == 200
    return {
        "carol home": _settled(lambda: _home(carol), 4),
        "bob home": _settled(lambda: _home(bob), 4),
        "alice home": _settled(lambda: _home(alice), 3),
        "alice notifications": _settled(lambda: _notifications(alice), 3),
        "carol notifications": _settled(lambda: _notifications(carol), 1),
        "alice followers": alice.account(alice_id)["followers_count"],
        "carol following": [a["username"] for a in carol.account_following(carol.me()["id"])],
    }


def _web_pids(deployment: Deployment) -> set[str]:
    """The web processes that answered, as /metrics reports them."""
    text = httpx.get(f"{deployment.web.base_url}/metrics").text
    return {
        line.split('pid="')[1].split('"')[0]
        for line in text.splitlines()
        if line.startswith("starling_process_resident_memory_bytes") and 'role="web"' in line
    }


def test_two_web_and_two_worker_processes_see_what_one_of_each_sees(service_urls, tmp_path):
    single = Deployment(service_urls, tmp_path / "single", 1, 1)
    try:
        one_of_each = _scenario(single)
    finally:
        single.close()
    double = Deployment(service_urls, tmp_path / "double", 2, 2)
    try:
        two_of_each = _scenario(double)
        web_processes = _web_pids(double)
    finally:
        double.close()

    assert two_of_each == one_of_each
    _expect(two_of_each)
    assert len(web_processes) == 2, web_processes


def _expect(seen: dict[str, object]) -> None:
    """Every post fanned out once, every notification made once."""
    carol_home = seen["carol home"]
    assert isinstance(carol_home, list)
    alice_posts = [f"<p>alice says {n}</p>" for n in range(3)]
    assert Counter(carol_home) == Counter([*alice_posts, *_bob_post(carol_home)])
    assert len(carol_home) == 4
    assert seen["alice notifications"] == [("favourite", "carol"), ("follow", "bob"),
                                           ("follow", "carol")]  # fmt: skip
    assert [kind for kind, _ in seen["carol notifications"]] == ["mention"]  # type: ignore[union-attr]
    assert seen["alice followers"] == 2
    assert sorted(seen["carol following"]) == ["alice", "bob"]  # type: ignore[arg-type]


def _bob_post(home: list[str]) -> list[str]:
    found = [content for content in home if content.startswith("<p>bob says hi")]
    assert len(found) == 1, home
    return found
