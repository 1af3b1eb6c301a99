"""What a browser would build from a piece of HTML, for asserting that markup is safe."""

from __future__ import annotations

from html.parser import HTMLParser


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)
        self.hrefs.extend(value or "" for name, value in attrs if name == "href")


def built_from(html: str) -> tuple[set[str], set[str], list[str]]:
    """The elements, attribute names and link targets a browser would build from ``html``."""
    parser = _Elements()
    parser.feed(html)
    return parser.tags, parser.attributes, parser.hrefs
