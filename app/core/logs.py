"""Logging for the `webcare` processes: text or JSON lines on stderr, every line passed
through the secret redactor, and no outgoing-request logs that name a URL (httpx logs each
request's full URL at INFO; a chat hook's URL is its password). Our own request logs name
the sink or the source instead."""
from __future__ import annotations

import json
import logging

from app.core.secrets import Redactor

# Libraries whose own logs print request URLs: only their warnings and errors get through.
# aiosqlite logs every statement with its parameters at DEBUG: mention texts, not diagnostics.
# Alembic's plugin set-up says nothing a person starting the server needs (its upgrades do).
QUIET_LIBRARIES = ("httpx", "httpcore", "hpack", "websockets", "aiosqlite", "alembic.runtime.plugins")

redactor = Redactor()


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": self.formatTime(record), "level": record.levelname, "logger": record.name,
                 "message": record.getMessage()}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class RedactingFormatter(logging.Formatter):
    """Formats with `inner`, then removes every known secret from the finished line
    (message, arguments and traceback alike)."""

    def __init__(self, inner: logging.Formatter, redact: Redactor) -> None:
        super().__init__()
        self.inner, self.redact = inner, redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(self.inner.format(record))


def setup_logging(level: str = "INFO", log_format: str = "text", stream=None) -> logging.Handler:
    """Configure the root logger once per process; returns its handler."""
    inner = _JsonFormatter() if log_format == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(inner, redactor))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def log_failure(logger: logging.Logger, exc: BaseException, message: str, *args) -> None:
    """A background loop's failure: the database being away for now is one warning line (it
    repeats at every retry until the server is back); anything else is a bug, with its traceback."""
    from app.core.db import database_unavailable

    if database_unavailable(exc):
        logger.warning(message + " [database unavailable: %s]", *args, type(exc).__name__)
    else:
        logger.error(message, *args, exc_info=exc)
