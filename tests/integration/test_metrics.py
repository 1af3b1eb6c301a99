"""``/metrics``: per-route request histograms, job, delivery, inbox and queue figures, access
only from allowed addresses or with the token, and every process of a real instance added up."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from quart.typing import TestClientProtocol as Client

from instance.app import create_app
from instance.config import MetricsSettings, Settings
from services import jobs, metrics
from services.backends import Backends
from tests.drain import drain
from tests.instances import instance_database_url, start_instance
from tests.support import drop_database, redis_url_with_db
from workers import search as search_worker

LOOPBACK = {"client": ("127.0.0.1", 40000)}
ELSEWHERE = {"client": ("203.0.113.7", 40000)}
METRICS_REDIS_DB = 14


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, keyed by name and labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: Client) -> dict:
    response = await client.get("/metrics", scope_base=LOOPBACK)
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    return samples(await response.get_data(as_text=True))


REQUESTS = "starling_http_request_duration_seconds"


async def test_requests_are_counted_per_route_template_and_status(client: Client):
    before = await scrape(client)
    # Given two requests to one route with different ids, and one to no route at all
    await client.get("/api/v1/accounts/1")
    await client.get("/api/v1/accounts/2")
    await client.get("/no/such/page/42")
    after = await scrape(client)
    route = {"method": "GET", "route": "/api/v1/accounts/<account_id>", "status": "404"}
    assert (
        value(after, f"{REQUESTS}_count", **route) - value(before, f"{REQUESTS}_count", **route)
        == 2
    )
    bucket = {**route, "le": "+Inf"}
    assert value(after, f"{REQUESTS}_bucket", **bucket) >= 2
    assert value(after, f"{REQUESTS}_sum", **route) > 0
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert value(after, f"{REQUESTS}_count", **unmatched) >= 1
    # The raw paths never become labels.
    assert not any("/no/such" in str(labels) for _, labels in after)
    assert not any("accounts/1" in str(labels) for _, labels in after)


async def test_other_addresses_are_refused(client: Client):
    response = await client.get("/metrics", scope_base=ELSEWHERE)
    assert response.status_code == 403
    assert "starling_" not in await response.get_data(as_text=True)


async def test_allowed_networks_are_configurable(settings: Settings, backends: Backends):
    custom = settings.model_copy(update={"metrics": MetricsSettings(allow=("203.0.113.0/24",))})
    client = create_app(custom, backends).test_client()
    assert (await client.get("/metrics", scope_base=ELSEWHERE)).status_code == 200
    assert (await client.get("/metrics", scope_base=LOOPBACK)).status_code == 403


async def test_a_bearer_token_opens_metrics_from_anywhere(settings: Settings, backends: Backends):
    custom = settings.model_copy(update={"metrics": MetricsSettings(token="s3cret-token")})
    client = create_app(custom, backends).test_client()
    refused = await client.get("/metrics", scope_base=ELSEWHERE)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = {"Authorization": "Bearer nope"}
    assert (await client.get("/metrics", headers=wrong, scope_base=ELSEWHERE)).status_code == 401
    right = {"Authorization": "Bearer s3cret-token"}
    response = await client.get("/metrics", headers=right, scope_base=ELSEWHERE)
    assert response.status_code == 200
    assert "starling_http_request_duration_seconds" in await response.get_data(as_text=True)


async def test_queue_depth_is_read_from_redis(client: Client, backends: Backends):
    await jobs.enqueue(backends.queue, jobs.Job("fanout", (1,), job_id="metrics-depth"))
    found = await scrape(client)
    assert value(found, "starling_queue_jobs", queue="arq:queue", state="due") == 1
    assert value(found, "starling_queue_jobs", queue="arq:search", state="due") == 0
    assert value(found, "starling_queue_oldest_due_seconds", queue="arq:queue") >= 0
    assert ("starling_pending_rows", frozenset({("table", "deliveries")})) in found


async def test_jobs_are_timed_per_queue_and_function(
    client: Client, backends: Backends, settings: Settings
):
    before = await scrape(client)
    # Given a fan-out job for a post that does not exist (it ends at once, successfully)
    await jobs.enqueue(backends.queue, jobs.Job("fanout", (123,), job_id="metrics-job"))
    await drain(settings)
    after = await scrape(client)
    labels = {"queue": "arq:queue", "function": "fanout"}
    done = "starling_job_duration_seconds_count"
    assert (
        value(after, done, **labels, result="ok") - value(before, done, **labels, result="ok") == 1
    )
    waited = "starling_job_queue_wait_seconds_count"
    assert value(after, waited, **labels) - value(before, waited, **labels) == 1


async def test_inbox_posts_are_counted_by_outcome(client: Client):
    before = await scrape(client)
    response = await client.post(
        "/inbox", data=b"not json", headers={"Content-Type": "application/activity+json"}
    )
    assert response.status_code == 400
    after = await scrape(client)
    name = "starling_inbox_received_total"
    assert value(after, name, outcome="rejected") - value(before, name, outcome="rejected") == 1


async def test_process_gauges_are_exported(client: Client):
    found = await scrape(client)
    assert value(found, "starling_process_resident_memory_bytes", role="web") > 10_000_000
    assert value(found, "starling_db_pool_connections", role="web", state="max") >= 1


def test_the_search_queue_is_the_one_the_indexer_reads():
    assert search_worker.QUEUE in metrics.QUEUES


# --- a real instance: two Hypercorn processes and the worker, one exposition ---------------


@pytest.fixture(scope="module")
async def two_process_instance(
    service_urls: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
):
    tmp_path = tmp_path_factory.mktemp("metrics")
    server_url, redis_server_url = service_urls
    database_url = instance_database_url(server_url, "metrics")
    await drop_database(database_url)
    instance = start_instance(
        "metrics",
        database_url,
        redis_url_with_db(redis_server_url, METRICS_REDIS_DB),
        tmp_path,
        extra_env={"STARLING_SERVER_WORKERS": "2", "STARLING_LOGGING_FORMAT": "json"},
    )
    try:
        yield instance
    finally:
        instance.stop()
        await drop_database(database_url)


def test_every_process_is_counted_in_one_scrape(two_process_instance):
    instance = two_process_instance
    hits = 30
    for _ in range(hits):  # a new connection each: the kernel spreads them over the processes
        with httpx.Client(base_url=instance.base_url) as http:
            assert http.get("/api/v1/instance/rules").status_code == 200
    found = samples(httpx.get(f"{instance.base_url}/metrics").text)
    route = {"method": "GET", "route": "/api/v1/instance/rules", "status": "200"}
    assert value(found, f"{REQUESTS}_count", **route) == hits
    # Each live process's files are read: two web processes and the worker.
    memory = [
        dict(labels) for name, labels in found if name == "starling_process_resident_memory_bytes"
    ]
    assert sorted(m["role"] for m in memory) == ["web", "web", "worker"], memory
    assert len({m["pid"] for m in memory}) == 3
    data_dir = Path(instance.env["STARLING_STORAGE_DATA_DIR"])
    assert len(list((data_dir / "metrics").glob("histogram_*.db"))) == 3


def test_a_real_instance_logs_json_lines(two_process_instance):
    instance = two_process_instance
    response = httpx.get(f"{instance.base_url}/health", headers={"X-Request-Id": "probe-1"})
    assert response.headers["X-Request-Id"] == "probe-1"
    # The supervisor's own lines are for people; every other line is one JSON object.
    lines = [line for line in instance.log().splitlines() if not line.startswith("starling:")]
    entries = [orjson.loads(line) for line in lines if line.strip()]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any(e["logger"] == "hypercorn.error" for e in entries)  # Hypercorn's too
    # The worker's jobs: building the new search index is logged with its job's id.
    instance.wait_for_log(r'"message":"search index built","documents":0,"job_id":"')


async def test_behind_a_trusted_proxy_the_forwarded_client_decides(
    settings: Settings, backends: Backends
):
    behind = settings.model_copy(
        update={"server": settings.server.model_copy(update={"trusted_proxies": ("10.0.0.2",)})}
    )
    client = create_app(behind, backends).test_client()
    proxy = {"client": ("10.0.0.2", 40000)}
    outsider = {"X-Forwarded-For": "203.0.113.7"}
    assert (await client.get("/metrics", headers=outsider, scope_base=proxy)).status_code == 403
    local = {"X-Forwarded-For": "127.0.0.1"}
    assert (await client.get("/metrics", headers=local, scope_base=proxy)).status_code == 200
    # The same header from anyone but the proxy is a forgery.
    assert (await client.get("/metrics", headers=local, scope_base=ELSEWHERE)).status_code == 403
