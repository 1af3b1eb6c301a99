"""The directory where every process of the instance keeps its Prometheus values.

prometheus-client's multiprocess mode: each process writes memory-mapped files named after it
(``counter_HOST-PID.db``, ``gauge_livesum_HOST-PID.db``...) into ``PROMETHEUS_MULTIPROC_DIR``,
and ``/metrics`` adds them up. The variable must be set before a process imports the client,
so the entry points call :func:`prepare` before they start (or spawn) anything that records.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from instance.config import Settings

ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's name, read by it and by services/metrics


def _host() -> str:
    return socket.gethostname().replace("_", "-") or "host"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, but alive
    return True


def _owner_pid(path: Path) -> int | None:
    """The pid in ``..._HOST-PID.db`` when the file is this host's, else None."""
    host, _, pid = path.stem.rsplit("_", 1)[-1].rpartition("-")
    return int(pid) if host == _host() and pid.isdigit() else None


def remove_dead(directory: Path) -> int:
    """Delete the files of this host's processes that have ended (a previous run's): their
    counters would otherwise add into this run's forever. Answers how many went."""
    removed = 0
    for path in directory.glob("*.db"):
        pid = _owner_pid(path)
        if pid is not None and pid != os.getpid() and not _alive(pid):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def prepare(settings: Settings) -> Path:
    """Set ``PROMETHEUS_MULTIPROC_DIR`` (kept if the environment already names one, else
    ``<data_dir>/metrics``), create it and clear what ended processes left there. Processes
    started from here inherit it."""
    directory = Path(os.environ.get(ENV) or settings.storage.data_dir / "metrics").resolve()
    directory.mkdir(parents=True, exist_ok=True)
    remove_dead(directory)
    os.environ[ENV] = str(directory)
    return directory
