"""Logging without patient data.

Access logs keep the path, never the query string; every record, whatever logger emits
it, has SQL parameters and result rows dropped and NIR, phone numbers, e-mails, street
addresses and named identity fields masked before any handler sees it (issue 20,
finding 3: a database error had logged a probe patient's NIR twenty times).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import traceback
from typing import Any

MASK = "[masqué]"

# NIR: sex, year, month, department (2A/2B for Corsica), commune, order, optional key;
# spaces allowed between the groups as people write them.
_NIR = (
    r"(?<![\w])[12]\s?\d{2}\s?(?:0[1-9]|1[0-2]|[2-9]\d)\s?(?:\d{2}|2[ABab])"
    r"\s?\d{3}\s?\d{3}(?:\s?\d{2})?(?!\d)"
)
# Phones: E.164 (+33…, any country) and French national forms (06 12 34 56 78, 0612345678).
_PHONE = r"(?<![\w+])(?:\+\d{1,3}[\s.-]?\d(?:[\s.-]?\d){7,12}|0[1-9](?:[\s.-]?\d{2}){4})(?!\d)"
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
# A street address: a number, then a way type and what follows up to a separator.
_ADDRESS = (
    r"(?i)\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.?|boulevard|bd|chemin|all[ée]e|"
    r"place|impasse|route|quai|cours|square|sentier|villa|r[ée]sidence|cit[ée])\b[^,;\n\"')}\]]*"
)
# Named fields in reprs, JSON, query strings or form bodies: "family_name": "Dupont", nir=…
_FIELDS = (
    "family_name|given_name|birth_name|first_name|last_name|full_name|name|nom|prenom|prénom|"
    "nir|ins|phone|telephone|téléphone|mobile|email|address|adresse|birth_date|"
    "date_naissance|body|reason|motif|From|To|Body"
)
_FIELD = (
    r"(?P<key>[\"']?\b(?:" + _FIELDS + r")\b[\"']?\s*(?:=|:)\s*)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^,&;\s)}\]]+)"
)
# PostgreSQL echoes the offending value of a constraint: "Key (nir)=(2800…) already exists".
_PG_DETAIL = r"(?P<key>Key \([^)]*\)=\()(?P<value>[^)]*)(?=\))"

_PATTERNS = [re.compile(_PG_DETAIL), re.compile(_FIELD)]
_VALUES = [re.compile(_EMAIL), re.compile(_ADDRESS), re.compile(_NIR), re.compile(_PHONE)]


def redact(text: str) -> str:
    """The text with identity values masked (fields by name, then values by shape)."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group("key") + MASK, text)
    for pattern in _VALUES:
        text = pattern.sub(MASK, text)
    return text


_DATABASE_LOGGERS = ("sqlalchemy", "aiosqlite", "asyncpg", "psycopg")


def redact_record(record: logging.LogRecord) -> None:
    """Render the message once, masked; SQLAlchemy's arguments (parameters, rows) dropped."""
    if record.name == "uvicorn.access" and isinstance(record.args, tuple):
        # uvicorn's formatter unpacks these five arguments: mask them in place, path
        # without its query string.
        args = list(record.args)
        if len(args) >= 3 and isinstance(args[2], str):
            args[2] = args[2].split("?", 1)[0]
        record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        return
    if record.name.startswith(_DATABASE_LOGGERS) and record.args:
        # SQLAlchemy and the drivers log parameters and, at DEBUG, every row fetched:
        # keep the template, never the values.
        given = record.args if isinstance(record.args, tuple) else (record.args,)
        try:
            message = str(record.msg) % tuple(MASK for _ in given)
        except (TypeError, ValueError):
            message = str(record.msg)
    else:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: keep its template
            message = str(record.msg)
    record.msg = redact(message)
    record.args = None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        # Exception texts carry values too (a constraint's DETAIL): format once, masked.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


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
        redact_record(record)
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
            # The masked text the record factory prepared (see redact_record).
            line["exception"] = record.exc_text or redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


def install_log_redaction() -> None:
    """Masking on every record (the record factory), query strings out of access lines."""
    _install_record_factory()
    install_access_log_redaction()


def configure_logging(log_format: str) -> None:
    """Request ids on every record, query strings out of access logs, JSON if asked.

    Called when the app is built and again at startup, once uvicorn has set up its own
    handlers (which replace whatever was there before).
    """
    install_log_redaction()
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
