"""deploy/: the example production config loads, and the Grafana dashboard and the Prometheus
alerts ask only for metrics the instance exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram

from instance.config import load_settings
from services import metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SCRAPE_TIME = {"starling_queue_jobs", "starling_queue_oldest_due_seconds", "starling_pending_rows"}
NAME = re.compile(r"\bstarling_[a-z_]+")


def exported() -> set[str]:
    """Every series name services/metrics defines, with the suffixes Prometheus adds."""
    names = set(SCRAPE_TIME)
    for value in vars(metrics).values():
        if isinstance(value, Histogram):
            names |= {f"{value._name}_{suffix}" for suffix in ("bucket", "count", "sum")}
        elif isinstance(value, Counter):
            names.add(f"{value._name}_total")
        elif isinstance(value, Gauge):
            names.add(value._name)
    return names


def test_the_example_config_is_valid():
    settings = load_settings(DEPLOY / "starling.toml", env={})
    assert settings.instance.https is True
    assert settings.server.trusted_proxies == ("172.30.0.10",)
    assert "172.30.0.20" in settings.metrics.allow
    assert settings.logging.format == "json"


def test_the_dashboard_asks_only_for_exported_metrics():
    dashboard = json.loads((DEPLOY / "grafana" / "starling-dashboard.json").read_text())
    expressions = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ]
    assert len(expressions) > 20
    used = {name for expr in expressions for name in NAME.findall(expr)}
    assert used <= exported(), used - exported()
    # Every metric family shows up somewhere on it.
    families = {re.sub(r"_(bucket|count|sum|total)$", "", name) for name in exported()}
    shown = {re.sub(r"_(bucket|count|sum|total)$", "", name) for name in used}
    assert families - shown <= {"starling_process_start_time_seconds"}, families - shown


def test_the_alerts_ask_only_for_exported_metrics():
    rules = (DEPLOY / "prometheus-alerts.yml").read_text()
    used = set(NAME.findall(rules))
    assert used
    assert used <= exported(), used - exported()
