"""Post text: normalising, counting, finding mentions/tags/links, and rendering safe HTML."""

from __future__ import annotations

import pytest

from services import text
from services.text import MentionRef
from tests.html import built_from


def mention_url(ref: MentionRef) -> str | None:
    return None if ref.username == "nobody" else f"https://starling.test/@{ref.username}"


def tag_url(name: str) -> str:
    return f"https://starling.test/tags/{name}"


def render(raw: str) -> str:
    return text.render_html(text.parse(raw), mention_url, tag_url)


def kinds(raw: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in text.parse(raw).tokens if t.kind != "text"]


# Normalising and counting


def test_normalise_composes_unifies_newlines_and_trims():
    assert text.normalise("  e\u0301\r\nx\ry  ") == "\u00e9\nx\ny"


def test_length_counts_code_points_after_nfc():
    assert text.length("e\u0301" * 280) == 280
    assert text.length("日本語") == 3
    assert text.length("🐦") == 1


def test_length_counts_links_as_written():
    url = "https://example.com/" + "a" * 100

    assert text.length(f"see {url}") == 4 + len(url)


def test_length_ignores_surrounding_white_space():
    assert text.length("  \n hi \t ") == 2


# Finding mentions, tags and links


def test_mentions_with_and_without_host():
    parsed = text.parse("hi @bob and @Carol@Remote.Example, and @bob again")

    assert parsed.mentions == [MentionRef("bob", None), MentionRef("Carol", "Remote.Example")]
    assert parsed.mentions[1].key == ("carol", "remote.example")


def test_an_email_address_is_not_a_mention():
    assert kinds("write to bob@example.com") == []


def test_a_mention_may_carry_a_port():
    assert kinds("@bob@starling.test:8443 hi") == [("mention", "@bob@starling.test:8443")]


def test_tags_are_lower_cased_and_deduplicated():
    assert text.parse("#Birds #birds #BIRDS #café").tags == ["birds", "café"]


@pytest.mark.parametrize("raw", ["#100", "a#tag", "&#39;", "https://x.com/#frag"])
def test_things_that_are_not_tags(raw):
    assert [k for k, _ in kinds(raw) if k == "tag"] == []


def test_trailing_punctuation_is_not_part_of_a_link():
    assert kinds("see https://example.com/a.") == [("url", "https://example.com/a")]
    assert kinds("(see https://en.wikipedia.org/wiki/Foo_(bar))") == [
        ("url", "https://en.wikipedia.org/wiki/Foo_(bar)")
    ]


def test_mentions_and_tags_inside_a_link_stay_in_the_link():
    assert kinds("https://example.com/@bob#tag") == [("url", "https://example.com/@bob#tag")]


def test_only_http_and_https_are_links():
    assert kinds("javascript:alert(1) ftp://x.org data:text/html,hi") == []


# Rendering


def test_plain_text_becomes_paragraphs_and_line_breaks():
    assert render("one\ntwo\n\nthree") == "<p>one<br>two</p><p>three</p>"


def test_a_mention_links_to_the_account():
    assert render("@bob") == (
        '<p><span class="h-card" translate="no"><a href="https://starling.test/@bob" '
        'class="u-url mention" rel="nofollow noopener noreferrer">@<span>bob</span></a></span></p>'
    )


def test_an_unknown_mention_stays_text():
    assert render("hi @nobody") == "<p>hi @nobody</p>"


def test_a_tag_links_to_its_page_and_keeps_its_case_as_written():
    html = render("#Birds")

    assert 'href="https://starling.test/tags/birds"' in html
    assert "#<span>Birds</span>" in html


def test_a_link_is_escaped_in_its_href():
    html = render("https://example.com/?a=1&b=2")

    assert 'href="https://example.com/?a=1&amp;b=2"' in html
    assert 'rel="nofollow noopener noreferrer"' in html


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        'https://example.com/"><script>alert(1)</script>',
        '"><svg onload=alert(1)>',
        "<a href='javascript:alert(1)'>x</a>",
        "&lt;script&gt;",
    ],
)
def test_typed_markup_is_escaped(attack):
    tags, attributes, hrefs = built_from(render(attack))

    assert tags <= {"p", "a", "span", "br"}
    assert not [name for name in attributes if name.startswith("on")]
    assert all(href.startswith("https://") for href in hrefs)


def test_typed_entities_are_shown_as_typed():
    assert render("&lt;b&gt; &amp;") == "<p>&amp;lt;b&amp;gt; &amp;amp;</p>"


def test_sanitise_drops_tags_attributes_and_schemes_outside_the_allow_list():
    dirty = (
        '<p onclick="x()"><a href="javascript:alert(1)" style="x">a</a>'
        "<script>bad()</script><b>b</b></p>"
    )

    clean = text.sanitise(dirty)

    assert "onclick" not in clean
    assert "javascript" not in clean
    assert "style" not in clean
    assert "<script" not in clean
    assert "<b>" not in clean
