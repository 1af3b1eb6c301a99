"""Search end to end on a running instance (``starling run``: web, worker and its indexer):
what Mastodon.py posts becomes findable by itself, and ``starling reindex`` runs beside it."""

from __future__ import annotations

import subprocess
import sys

from mastodon import Mastodon

from tests.api.test_mastodon_py_social import eventually, sign_up
from tests.instances import ROOT


def found_ids(api: Mastodon, q: str) -> list[str]:
    return [str(status["id"]) for status in api.search_v2(q, result_type="statuses")["statuses"]]


def test_posts_accounts_and_tags_become_searchable_without_anyone_reindexing(instance):
    alice = sign_up(instance.base_url, "alice")
    bob = sign_up(instance.base_url, "bob")

    post = alice.status_post("Swifts sleep on the wing #birds")
    eventually(lambda: found_ids(bob, "swift sleeping") == [str(post["id"])], seconds=20)

    results = bob.search_v2("ali", result_type="accounts")
    assert [account["acct"] for account in results["accounts"]] == ["alice"]
    # Mastodon.py asks for reviewed tags only by default; nobody reviews tags here, so only
    # the exact name comes back then, as on Mastodon.
    tags = bob.search_v2("#bir", result_type="hashtags", exclude_unreviewed=False)["hashtags"]
    assert [tag["name"] for tag in tags] == ["birds"]
    assert [t["name"] for t in bob.search_v2("#Birds", result_type="hashtags")["hashtags"]] == [
        "birds"
    ]
    assert [str(s["id"]) for s in bob.search_v2("from:alice")["statuses"]] == [str(post["id"])]

    alice.status_delete(post["id"])
    eventually(lambda: found_ids(bob, "swift") == [], seconds=20)


def test_reindex_rebuilds_while_the_instance_serves(instance):
    alice = sign_up(instance.base_url, "alice")
    post = alice.status_post("kestrels hover")
    eventually(lambda: found_ids(alice, "kestrel") == [str(post["id"])], seconds=20)

    result = subprocess.run(
        [sys.executable, "-m", "instance.cli", "reindex"],
        cwd=ROOT, env=instance.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "search index rebuilt with" in result.stdout
    assert "docs" in result.stderr  # the progress bar: count, rate and time left
    assert found_ids(alice, "kestrel") == [str(post["id"])]
    later = alice.status_post("kestrels again")
    eventually(lambda: str(later["id"]) in found_ids(alice, "kestrel"), seconds=20)
