"""The web UI's defences: CSRF tokens on every form, a strict CSP on every page, and user
content that never becomes markup (a corpus of XSS payloads, local and remote)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from models.accounts import Account
from models.ids import next_id
from models.posts import Post
from services import posting, relationships
from services.accounts import ProfileChanges, update_profile
from services.postcache import forget_accounts
from services.posting import NewPost
from tests.drain import drain
from tests.factories import make_remote_account, member
from tests.integration.ui_support import HTML, forms_of, get_page, sign_in, text_of

SIGNED_IN_PAGES = [
    "/home",
    "/public/local",
    "/public",
    "/notifications",
    "/@alice",
    "/@bob",
    "/@bob/followers",
    "/tags/birds",
    "/search?q=bob",
    "/settings",
    "/follow_requests",
    "/settings/blocks",
    "/settings/mutes",
]
SIGNED_OUT_PAGES = ["/", "/login", "/register", "/public", "/@bob", "/tags/birds", "/search?q=b"]


@pytest.fixture
async def cast(settings, backends):
    alice, _ = await member(settings, "alice")
    bob, _ = await member(settings, "bob")
    await relationships.follow(backends, alice.id, bob.id)
    await posting.create_post(backends, bob.id, NewPost(text="Hello #birds"))
    await drain(settings)
    return alice, bob


async def test_every_post_form_carries_the_csrf_token(client, cast):
    await sign_in(client)
    for path in SIGNED_IN_PAGES:
        html = await get_page(client, path)
        posts = [f for f in forms_of(html) if f.method == "post"]
        assert posts or path in ("/public/local",), path
        for form in posts:
            assert len(form.fields.get("csrf_token", "")) == 43, (path, form.action)


@pytest.mark.parametrize("token", [None, "", "A" * 43])
async def test_a_form_post_without_the_right_token_gets_a_403_page(client, cast, token):
    await sign_in(client)
    fields = {"status": "forged"} | ({"csrf_token": token} if token is not None else {})

    response = await client.post("/statuses", form=fields, headers=HTML)

    html = await text_of(response)
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "This form has expired" in html
    assert await Post.filter(text="forged").count() == 0


async def test_a_sign_in_without_the_token_is_refused(client, cast):
    response = await client.post(
        "/login", form={"login": "alice", "password": "correct horse battery"}, headers=HTML
    )

    assert response.status_code == 403
    assert "starling_session" not in str(response.headers.getlist("Set-Cookie"))


class _Inline(HTMLParser):
    """Scripts and styles in the page itself, which a strict CSP would block."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style>")
        self.problems += [f"{tag} {n}=" for n in names if n == "style" or n.startswith("on")]
        for name, value in attrs:
            target = (value or "").strip().lower()
            if name in ("href", "src", "action") and target.startswith("javascript:"):
                self.problems.append(f"{tag} {name}=javascript:")


def inline_problems(html: str) -> list[str]:
    parser = _Inline()
    parser.feed(html)
    return parser.problems


async def test_every_page_has_a_strict_csp_and_nothing_inline(client, cast):
    async def check(path: str) -> None:
        response = await client.get(path, headers=HTML)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert inline_problems(await text_of(response)) == [], path

    for path in SIGNED_OUT_PAGES:
        await check(path)
    await sign_in(client)
    for path in SIGNED_IN_PAGES:
        await check(path)


# XSS: what people type (locally) or peers send (remote rows) is shown, never run.

PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '"><svg onload=alert(1)>',
    '<a href="javascript:alert(1)">click</a>',
    "</textarea><script>alert(1)</script>",
    "{{ 7*7 }}<iframe src=//evil.example></iframe>",
    "<style>body{display:none}</style>",
    "'; alert(1); //<body onload=alert(1)>",
]


@pytest.fixture
async def hostile(settings, backends):
    """Payloads in a local display name, bio, post and content warning, and in a remote
    account's and post's rows as if a peer had sent them."""
    alice, _ = await member(settings, "alice")
    mallory, _ = await member(settings, "mallory")
    await relationships.follow(backends, alice.id, mallory.id)
    for payload in PAYLOADS:
        await posting.create_post(
            backends, mallory.id, NewPost(text=f"post {payload}", spoiler_text=f"cw {payload}")
        )
    await update_profile(
        backends,
        (await mallory.user).id,
        ProfileChanges(display_name=PAYLOADS[1][:30], note=" ".join(PAYLOADS)),
    )
    rob = await make_remote_account("rob", "evil.example")
    # A remote row holds what services/text sanitised on the way in; these go in raw, as the
    # worst a bug there could leave behind: names and warnings must still come out escaped.
    await Account.filter(id=rob.id).update(display_name=PAYLOADS[0], note="<p>fine</p>")
    await forget_accounts(backends.redis, [rob.id])
    for payload in PAYLOADS:
        post_id = next_id()
        await Post.create(
            id=post_id,
            author_id=rob.id,
            uri=f"https://evil.example/notes/{post_id}",
            text="",
            html="<p>remote</p>",
            spoiler_text=payload,
            visibility="public",
            local=False,
        )
    await drain(settings)
    return alice, mallory, rob


def assert_inert(html: str, where: str) -> None:
    problems = inline_problems(html)
    assert problems == [], (where, problems)
    lowered = html.lower()
    for tag in ("<iframe", "<svg onload", "<img src=x", "<body onload", "<script>alert"):
        assert tag not in lowered, (where, tag)


async def test_xss_payloads_are_inert_on_every_page_that_shows_them(client, hostile):
    _, mallory, rob = hostile
    pages = ["/@mallory", "/@rob@evil.example", "/public", "/search?q=mallory"]
    for path in pages:
        assert_inert(await get_page(client, path), path)
    await sign_in(client)
    for path in ["/home", "/@mallory", "/@mallory/followers", "/@alice/following", "/public"]:
        html = await get_page(client, path)
        assert_inert(html, path)
    post = await Post.filter(author_id=mallory.id).first()
    assert_inert(await get_page(client, f"/@mallory/{post.id}"), "post page")
    remote = await Post.filter(author_id=rob.id).first()
    assert_inert(await get_page(client, f"/@rob@evil.example/{remote.id}"), "remote post page")


async def test_payloads_are_shown_as_text(client, hostile):
    html = await get_page(client, "/@mallory")

    assert "cw &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html  # the display name, escaped
