"""Driving the web UI as a browser does: pages, their forms, the CSRF cookie, the session."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from tests.factories import PASSWORD

HTML = {"Accept": "text/html"}


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get").lower()))
        elif tag in ("input", "textarea", "select") and self.forms and values.get("name"):
            self.forms[-1].fields.setdefault(values["name"], values.get("value", ""))


def forms_of(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_to(html: str, action: str) -> Form:
    """The form posting to ``action`` (the first, when several do)."""
    found = [f for f in forms_of(html) if f.action == action]
    assert found, f"no form to {action} in the page"
    return found[0]


async def text_of(response) -> str:
    return await response.get_data(as_text=True)


async def get_page(client, path: str, status: int = 200) -> str:
    response = await client.get(path, headers=HTML)
    html = await text_of(response)
    assert response.status_code == status, (response.status_code, html[:500])
    return html


async def submit(client, page_path: str, action: str, **fields: str):
    """Open ``page_path``, fill the form to ``action`` as a person would, and post it."""
    form = form_to(await get_page(client, page_path), action)
    return await client.post(action, form=form.fields | fields, headers=HTML)


async def sign_in(client, login: str = "alice", password: str = PASSWORD):
    response = await submit(client, "/login", "/login", login=login, password=password)
    assert response.status_code == 303, await text_of(response)
    return response


def location(response) -> str:
    assert response.status_code == 303, response.status_code
    return response.headers["Location"]


async def sign_up(client, username: str = "newbie", **fields: str):
    """Fill the sign-up form (a valid one, unless ``fields`` say otherwise) and post it."""
    values = {
        "username": username,
        "email": f"{username}@example.com",
        "password": "long enough secret",
        "agreement": "on",
    }
    return await submit(client, "/register", "/register", **(values | fields))
