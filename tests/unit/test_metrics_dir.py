"""instance/metrics_dir: the directory every process writes its Prometheus files to."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from instance import metrics_dir
from services.metrics import process_identifier


def _ended_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_files_of_ended_processes_of_this_host_are_removed(tmp_path: Path):
    host = process_identifier().rsplit("-", 1)[0]
    ended = _ended_pid()
    mine = tmp_path / f"counter_{process_identifier()}.db"
    gone = tmp_path / f"histogram_{host}-{ended}.db"
    gone_gauge = tmp_path / f"gauge_liveall_{host}-{ended}.db"
    elsewhere = tmp_path / f"counter_otherhost-{ended}.db"  # another container's: not ours
    for path in (mine, gone, gone_gauge, elsewhere):
        path.write_bytes(b"")

    assert metrics_dir.remove_dead(tmp_path) == 2

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, elsewhere.name])


def test_prepare_keeps_a_directory_the_environment_names(tmp_path: Path, monkeypatch):
    chosen = tmp_path / "chosen"
    monkeypatch.setenv(metrics_dir.ENV, str(chosen))
    from instance.config import load_settings

    settings = load_settings(env={"STARLING_STORAGE_DATA_DIR": str(tmp_path / "data")})
    assert metrics_dir.prepare(settings) == chosen
    assert chosen.is_dir()
    assert os.environ[metrics_dir.ENV] == str(chosen)


def test_prepare_defaults_to_the_data_dir(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(metrics_dir.ENV, "")  # unset, and restored after the test
    from instance.config import load_settings

    settings = load_settings(env={"STARLING_STORAGE_DATA_DIR": str(tmp_path / "data")})
    assert metrics_dir.prepare(settings) == (tmp_path / "data" / "metrics").resolve()
