"""Process-wide logging, set up once by each entry point (web, worker)."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that log a line per request or job: at hundreds of deliveries a second that is
# noise, and a tenth of a delivery's time. Their warnings and errors still show.
CHATTY = ("httpx", "httpcore", "arq.worker", "arq.jobs")


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format=FORMAT)
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
