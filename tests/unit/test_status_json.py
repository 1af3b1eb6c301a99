"""A page of statuses spliced from memoised parts reads exactly as the rendered entities."""

from pathlib import Path

import orjson
import pytest

from instance.config import Settings, load_settings
from services.postcache import POST_SNAPSHOT_COLUMNS, Snapshot
from services.statuses import Hydrated, ViewerState
from web.api.entities import ACCOUNT_FIELDS, render_statuses
from web.api.status_json import statuses_json

VIEWER, ALICE, BOB = 1, 2, 3


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    config = tmp_path / "config.toml"
    config.write_text('[instance]\ndomain = "starling.example"\n')
    return load_settings(config, env={})


def account(account_id: int, username: str, domain: str | None = None) -> Snapshot:
    values = {name: None for name in ACCOUNT_FIELDS}
    values.update(
        id=account_id, username=username, domain=domain, display_name=username.title(),
        note="<p>hi</p>", uri=f"https://{domain or 'starling.example'}/users/{username}",
        url=None, avatar_url="", header_url="", locked=False, discoverable=True,
        indexable=True, bot=False, followers_count=3, following_count=4, posts_count=5,
        created_at="2026-11-02T10:11:12.345Z",
    )  # fmt: skip
    return values


def post(post_id: int, author_id: int, **fields: object) -> Snapshot:
    values: Snapshot = {name: None for name in POST_SNAPSHOT_COLUMNS}
    values.update(
        id=post_id, uri=f"https://starling.example/statuses/{post_id}", url=None, local=True,
        author_id=author_id, text="t", html=f"<p>post {post_id} \u2028 \"q\" &amp;</p>",
        spoiler_text="", sensitive=False, visibility="public", replies_count=0,
        boosts_count=1, likes_count=2, created_at="2026-12-01T09:00:00.000Z",
        mention_ids=[], tags=[],
    )  # fmt: skip
    values.update(fields)
    return values


def page(viewer: ViewerState) -> Hydrated:
    original = post(10, BOB, tags=["birds", "Été"], visibility="unlisted", language="en")
    posts = [
        post(11, ALICE, boost_of_id=10, html="<p>hidden</p>"),  # a boost, shown with its post
        post(12, ALICE, boost_of_id=99, html="<p>gone</p>"),  # a boost of a post not loaded
        post(13, VIEWER, in_reply_to_id=11, in_reply_to_account_id=ALICE, mention_ids=[ALICE]),
        post(14, BOB, mention_ids=[VIEWER, 404], spoiler_text="cw", sensitive=True,
             edited_at="2026-12-01T10:00:00.000Z", visibility="followers"),
        post(15, ALICE, visibility="direct", mention_ids=[VIEWER]),
        original,
    ]  # fmt: skip
    accounts = {
        VIEWER: account(VIEWER, "me"),
        ALICE: account(ALICE, "alice"),
        BOB: account(BOB, "bob", "remote.example"),
    }
    return Hydrated(posts=posts, originals={10: original}, accounts=accounts, viewer=viewer)


@pytest.mark.parametrize(
    "viewer",
    [
        ViewerState(),
        ViewerState(viewer_id=VIEWER, liked=frozenset({10, 14}), boosted=frozenset({10})),
        ViewerState(viewer_id=ALICE, boosted=frozenset({15})),
    ],
    ids=["anonymous", "the viewer liked and boosted some", "another viewer"],
)
def test_the_spliced_page_is_byte_for_byte_the_rendered_one(settings, viewer):
    hydrated = page(viewer)

    expected = orjson.dumps(render_statuses(hydrated, settings))

    assert statuses_json(hydrated, settings) == expected
    # Again, from the memoised parts: the same text.
    assert statuses_json(hydrated, settings) == expected


def test_a_changed_snapshot_is_rendered_anew(settings):
    # Given a page read once (its parts memoised)
    hydrated = page(ViewerState(viewer_id=VIEWER))
    statuses_json(hydrated, settings)

    # When the post and its author change (their snapshots are new objects, as when read anew)
    hydrated.posts[-1] = post(10, BOB, likes_count=7, tags=["birds", "Été"])
    hydrated.accounts[BOB] = {**hydrated.accounts[BOB], "display_name": "Bob Renamed"}

    # Then the next page shows the changes, as the rendered entities do
    shown = orjson.loads(statuses_json(hydrated, settings))
    assert shown[-1]["favourites_count"] == 7
    assert shown[-1]["account"]["display_name"] == "Bob Renamed"
    assert statuses_json(hydrated, settings) == orjson.dumps(render_statuses(hydrated, settings))
