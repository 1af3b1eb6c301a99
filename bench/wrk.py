"""wrk runs and their figures: requests per second and latency percentiles."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 of some latency samples (every sequential measurement reports these)."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


@dataclass
class Row:
    name: str
    result: str
    target: str


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(
    wrk: str,
    url: str,
    *,
    script: Path | None = None,
    env: dict[str, str] | None = None,
    duration: str = "10s",
) -> WrkResult:
    command = [wrk, "-t2", "-c64", f"-d{duration}", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    return WrkResult(rps, p50, p99)


def median_wrk(runs: int, *args, **kwargs) -> WrkResult:  # type: ignore[no-untyped-def]
    results = [run_wrk(*args, **kwargs) for _ in range(runs)]
    return WrkResult(
        statistics.median(r.rps for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
    )


def write_table(
    header: str, rows: list[Row], path: Path, widths: tuple[int, int, int] = (52, 40, 34)
) -> None:
    """Print the rows as a Markdown table under ``header``, and keep them as JSON at ``path``."""
    name, result, target = widths
    print("\n" + header + "\n")
    print(f"| {'benchmark':<{name}} | {'result':<{result}} | {'target':<{target}} |")
    print(f"|{'-' * (name + 2)}|{'-' * (result + 2)}|{'-' * (target + 2)}|")
    for row in rows:
        print(f"| {row.name:<{name}} | {row.result:<{result}} | {row.target:<{target}} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = {"header": header, "rows": [row.__dict__ for row in rows]}
    path.write_text(json.dumps(kept, indent=2))


def fmt(result: WrkResult) -> str:
    return f"{result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} / p99 {result.p99_ms:.1f} ms"


def home_wrk(
    runs: int, wrk: str, base_url: str, tokens: list[str], duration: str = "10s"
) -> WrkResult:
    """wrk on the home timeline, the viewers' tokens in turn (home.lua)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as tokens_file:
        tokens_file.write("\n".join(tokens))
    try:
        return median_wrk(
            runs, wrk, f"{base_url}/api/v1/timelines/home",
            script=Path(__file__).with_name("home.lua"), env={"BENCH_TOKENS": tokens_file.name},
            duration=duration,
        )  # fmt: skip
    finally:
        os.unlink(tokens_file.name)
