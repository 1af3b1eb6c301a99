"""Request ids (``X-Request-Id``) and the ids on every log line: the request's on the web, the
arq job's in workers; JSON lines when ``logging.format = "json"``."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import orjson
import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from instance.config import Settings
from instance.logs import ContextFilter, JsonFormatter, TextFormatter
from services import jobs
from services.backends import Backends
from tests.drain import drain
from tests.factories import account_of, make_post, make_user


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the root logger writes, through the real JSON formatter and context filter."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


def entries(out: io.StringIO) -> list[dict]:
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


async def test_every_response_carries_a_fresh_request_id(client: Client):
    first = await client.get("/health")
    second = await client.get("/no/such/page")
    ids = [first.headers["X-Request-Id"], second.headers["X-Request-Id"]]
    assert all(len(i) == 32 for i in ids)
    assert ids[0] != ids[1]


async def test_a_sane_incoming_request_id_is_kept(client: Client):
    response = await client.get("/health", headers={"X-Request-Id": "caddy-7f3a.1:2"})
    assert response.headers["X-Request-Id"] == "caddy-7f3a.1:2"


@pytest.mark.parametrize("incoming", ["x" * 200, "a b", "<script>", "-leading", "é"])
async def test_an_odd_incoming_request_id_is_replaced(client: Client, incoming: str):
    response = await client.get("/health", headers={"X-Request-Id": incoming})
    assert response.headers["X-Request-Id"] != incoming
    assert len(response.headers["X-Request-Id"]) == 32


async def test_log_lines_of_a_request_carry_its_id(app: Quart, json_lines: io.StringIO):
    @app.get("/test/logs")
    async def logs_twice() -> str:
        logging.getLogger("starling.test").info("first", extra={"thing": 7})
        logging.getLogger("starling.test").warning("second")
        return "ok"

    client = app.test_client()
    response = await client.get("/test/logs", headers={"X-Request-Id": "req-42"})
    assert response.status_code == 200
    lines = [e for e in entries(json_lines) if e["logger"] == "starling.test"]
    assert [(e["message"], e["level"]) for e in lines] == [("first", "info"), ("second", "warning")]
    assert {e["request_id"] for e in lines} == {"req-42"}
    assert lines[0]["thing"] == 7
    assert lines[0]["time"].endswith("+00:00")
    # Outside the request, nothing is stamped.
    logging.getLogger("starling.test").info("after")
    assert "request_id" not in entries(json_lines)[-1]


async def test_a_500_is_logged_with_the_request_id(app: Quart, json_lines: io.StringIO):
    @app.get("/test/boom")
    async def boom() -> str:
        raise RuntimeError("boom")

    response = await app.test_client().get("/test/boom")
    assert response.status_code == 500
    request_id = response.headers["X-Request-Id"]
    crashed = [e for e in entries(json_lines) if e["message"] == "unhandled error"]
    assert crashed
    assert crashed[0]["request_id"] == request_id
    assert "RuntimeError: boom" in crashed[0]["exception"]


async def test_worker_log_lines_carry_the_job_id(
    settings: Settings, backends: Backends, json_lines: io.StringIO
):
    author = await account_of(await make_user(settings, "writer"))
    post = await make_post(author, "hello")
    await jobs.enqueue(backends.queue, jobs.Job("fanout", (post.id,), job_id="fanout-job-7"))
    await drain(settings)
    fanned = [e for e in entries(json_lines) if e["message"] == "fanned out"]
    assert fanned
    assert fanned[0]["job_id"] == "fanout-job-7"
    assert fanned[0]["post_id"] == post.id


def test_text_lines_name_the_ids_too():
    record = logging.LogRecord("starling.x", logging.INFO, "", 0, "hello %s", ("you",), None)
    record.request_id = "abc"
    assert TextFormatter().format(record).endswith("starling.x: hello you request_id=abc")
