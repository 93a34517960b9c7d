"""Logging without patient data: access logs keep the path, never the query string."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
from typing import Any


class RedactQueryFilter(logging.Filter):
    """Searches carry names, birth dates and phone numbers in their query: drop it."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = args[2].split("?", 1)[0]
            record.args = (*args[:2], path, *args[3:])
        return True


def install_access_log_redaction() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactQueryFilter) for f in logger.filters):
        logger.addFilter(RedactQueryFilter())


# --- Request ids and JSON lines -------------------------------------------------------

#: The current request's id (set by app/core/observability.py), "-" outside a request.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def _install_record_factory() -> None:
    """Every log record carries the request id, whatever logger or library emits it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_premier_recours", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id.get()
        return record

    factory._premier_recours = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id (and traceback).

    Only these fields are written, never a record's extras: whatever a caller attaches
    to a record (a patient, a payload) stays out of the logs.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


def configure_logging(log_format: str) -> None:
    """Request ids on every record, query strings out of access logs, JSON if asked.

    Called when the app is built and again at startup, once uvicorn has set up its own
    handlers (which replace whatever was there before).
    """
    _install_record_factory()
    install_access_log_redaction()
    if log_format != "json":
        return
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    if root.level == logging.WARNING:
        root.setLevel(logging.INFO)
    for name in _LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if not isinstance(handler.formatter, JsonFormatter):
                handler.setFormatter(JsonFormatter())
