"""Process-wide logging, set up once by each entry point (web, worker).

``logging.format = "text"`` (the default) writes a line for people; ``"json"`` one JSON object
per line for log shippers. Either way each record carries the ids of what was being handled
(services/logcontext: request, job, activity) and the ``extra=`` fields the code logs with.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from instance.config import Settings, get_settings
from services import logcontext

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that log a line per request or job: at hundreds of deliveries a second that is
# noise, and a tenth of a delivery's time. Their warnings and errors still show.
CHATTY = ("httpx", "httpcore", "arq.worker", "arq.jobs")
# What every LogRecord has: anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in _STANDARD}


class ContextFilter(logging.Filter):
    """Stamps each record with the ids of the request or job it was emitted in."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in logcontext.current().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class TextFormatter(logging.Formatter):
    """The classic line, then ``key=value`` for the ids and extra fields."""

    def __init__(self) -> None:
        super().__init__(FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = _fields(record)
        if fields:
            line += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(settings: Settings | None = None) -> None:
    config = (settings or get_settings()).logging
    level = logging.getLevelNamesMapping()[config.level.upper()]
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if config.format == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
