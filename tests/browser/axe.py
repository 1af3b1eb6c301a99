"""axe-core (from npm, installed by the session) run on a page, its serious and critical
violations listed one a line so a failing test says what to fix and where."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from playwright.async_api import Page

AXE_VERSION = "4"
BLOCKING = ("serious", "critical")

RUN = """async () => {
  const result = await window.axe.run(document, {
    resultTypes: ['violations'],
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
  }));
}"""


def install_axe(cache: Path) -> Path:
    """axe.min.js from npm into ``cache`` (git-ignored), once: later sessions reuse it."""
    script = cache / "node_modules" / "axe-core" / "axe.min.js"
    if script.exists():
        return script
    npm = shutil.which("npm") or _apt_install_npm()
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--prefix", str(cache), "--no-save", "--no-audit", "--no-fund",
         f"axe-core@{AXE_VERSION}"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    assert script.exists(), f"npm did not install {script}"
    return script


def _apt_install_npm() -> str:
    apt = shutil.which("apt-get")
    assert apt, "npm is missing and apt-get is not available to install it"
    if subprocess.run([apt, "install", "-y", "npm"], capture_output=True).returncode != 0:
        subprocess.run([apt, "update", "-qq"], check=True, capture_output=True)
        subprocess.run([apt, "install", "-y", "npm"], check=True, capture_output=True)
    npm = shutil.which("npm")
    assert npm, "apt-get did not install npm"
    return npm


async def axe_violations(page: Page, source: str) -> list[str]:
    """The page's serious and critical violations, readably. The pages forbid inline script
    (CSP), so axe is injected with page.evaluate of its source: Playwright evaluates through
    the DevTools protocol, which CSP does not apply to, and the page's own policy stays on."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(source)
    found = await page.evaluate(RUN)
    return [
        f"{v['impact']} {v['id']} ({v['help']}) at {node['target']}: {_why(node['summary'])}"
        for v in found
        if v["impact"] in BLOCKING
        for node in v["nodes"]
    ]


def _why(summary: str) -> str:
    """axe's failure summary without its "Fix any of the following:" headings."""
    lines = [line.strip() for line in summary.splitlines()]
    return "; ".join(line for line in lines if line and not line.startswith("Fix "))
