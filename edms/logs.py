"""How edms's processes write their logs: JSON lines for machines, plain text for people.

EDMS_LOG_FORMAT chooses: `json` (one JSON object a line), `text`, or unset: text when standard
error is a terminal (someone is watching `edms run`), JSON otherwise (systemd's journal, a
container's log, a file). Every line has `timestamp` (ISO 8601, UTC), `level`, `logger` and
`message`; where there is one, the fields of `dossier.log_context` (request id, Celery task id and
name, actor, dossier key, document and version ids); an exception's traceback is the
`exception` field of its one line.

The web server (Django's LOGGING, gunicorn's `logconfig_dict`), the Celery workers
(`edms.celery`), the management commands and the supervisor all take their configuration from
here. This module imports neither Django nor Celery: gunicorn's master and the supervisor read it.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from typing import TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

FORMATS = ("json", "text")

# Context fields (see dossier.log_context), named here too: this module must not import it.
CONTEXT_FIELDS = (
    "request_id",
    "task_id",
    "task_name",
    "actor",
    "dossier_key",
    "document_id",
    "version_id",
)


def log_format(value: str | None = None, stream: TextIO | None = None) -> str:
    """The format asked for by `value` (EDMS_LOG_FORMAT's by default): `json` or `text`; when
    unset or empty, text if `stream` (standard error) is a terminal, else JSON."""
    value = os.environ.get("EDMS_LOG_FORMAT", "") if value is None else value
    value = value.strip().lower()
    if value in FORMATS:
        return value
    if value:
        raise ValueError(f"EDMS_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {value!r}")
    stream = sys.stderr if stream is None else stream
    try:
        return "text" if stream.isatty() else "json"
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return "json"


def timestamp(record: logging.LogRecord) -> str:
    """The record's time in ISO 8601, UTC, to the millisecond: `2026-12-04T22:41:07.123Z`."""
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object a line: timestamp, level, logger, message, then the context fields and
    whatever `extra=` the call gave; `exception` holds the traceback."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("rename_fields", {"exc_info": "exception", "stack_info": "stack"})
        # A record's `request` (Django's django.request lines) is an object: its method and
        # path are written instead (`add_fields`).
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        log_data["timestamp"] = timestamp(record)
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.getMessage()
        for name in CONTEXT_FIELDS:
            if (value := getattr(record, name, None)) is not None:
                log_data[name] = value
        request = getattr(record, "request", None)
        if (path := getattr(request, "path", None)) is not None:
            log_data["method"] = getattr(request, "method", None)
            log_data["path"] = path
        super().add_fields(log_data, record, message_dict)


class AccessJsonFormatter(JsonFormatter):
    """gunicorn's access log as JSON: a record's arguments are gunicorn's atoms (`h` the
    client's address, `m` the method, `U` the path, `s` the status, `B` the body's bytes, `D`
    the duration in microseconds); the request id is the one edms answered with."""

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        atoms = record.args
        super().add_fields(log_data, record, message_dict)
        if not hasattr(atoms, "__getitem__") or isinstance(atoms, tuple):
            return
        fields = {
            "method": atoms["m"],
            "path": atoms["U"],
            "query": atoms["q"] or None,
            "status": _int(atoms["s"]),
            "bytes": _int(atoms["B"]),
            "duration_ms": round(_int(atoms["D"]) / 1000, 3),
            "remote_addr": atoms["h"],
            "user_agent": atoms["a"],
            "request_id": atoms["{x-request-id}o"],
        }
        log_data["message"] = f"{fields['method']} {fields['path']} {fields['status']}"
        log_data.update({name: value for name, value in fields.items() if value not in (None, "-")})


class TextFormatter(logging.Formatter):
    """`2026-12-04T22:41:07.123Z INFO ingest.pipeline: message [request_id=… actor=…]`, then
    the traceback, for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        context = [
            f"{name}={getattr(record, name)}"
            for name in CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        ]
        if context:
            line += f"  [{' '.join(context)}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def logging_config(fmt: str, level: str = "INFO") -> dict:
    """A `logging.config.dictConfig` configuration: every record, through the context filter,
    to standard error in `fmt`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "dossier.log_context.ContextFilter"}},
        "formatters": {
            "json": {"()": "edms.logs.JsonFormatter"},
            "text": {"()": "edms.logs.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": fmt,
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }


def gunicorn_logging_config(fmt: str, level: str = "INFO") -> dict:
    """gunicorn's `logconfig_dict`: its error log like every other log, its access log (one
    line a request, on standard output) as JSON with the request's fields, or as text."""
    config = logging_config(fmt, level)
    config["formatters"]["access_json"] = {"()": "edms.logs.AccessJsonFormatter"}
    # gunicorn's own line (its `access_log_format`, see edms.gunicorn_conf), as it is.
    config["formatters"]["access_text"] = {"format": "%(message)s"}
    config["handlers"]["access"] = {
        "class": "logging.StreamHandler",
        "formatter": f"access_{fmt}",
        "stream": "ext://sys.stdout",
    }
    config["loggers"] = {
        "gunicorn.error": {"level": level, "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
    }
    return config


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
