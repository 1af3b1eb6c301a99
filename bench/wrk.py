"""wrk runs and their figures: requests per second and latency percentiles."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


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
    wrk: str, url: str, *, script: Path | None = None, env: dict[str, str] | None = None
) -> WrkResult:
    command = [wrk, "-t2", "-c64", "-d10s", "--latency", url]
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


def fmt(result: WrkResult) -> str:
    return f"{result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} / p99 {result.p99_ms:.1f} ms"


def home_wrk(runs: int, wrk: str, base_url: str, tokens: list[str]) -> WrkResult:
    """wrk on the home timeline, the viewers' tokens in turn (home.lua)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as tokens_file:
        tokens_file.write("\n".join(tokens))
    try:
        return median_wrk(
            runs, wrk, f"{base_url}/api/v1/timelines/home",
            script=Path(__file__).with_name("home.lua"), env={"BENCH_TOKENS": tokens_file.name},
        )  # fmt: skip
    finally:
        os.unlink(tokens_file.name)
