"""What the code at hand is working on, carried into every log line it writes.

A request (its id, its actor), a Celery task (its id and name) or a piece of pipeline work (the
dossier, document or version) binds its fields here once; `ContextFilter`, installed on the log
handlers (see `edms.logs`), copies them onto each record. So an existing
`log.info("...")` says which request, task and document it is about without naming them.

The fields live in a `contextvars.ContextVar`: each thread (gunicorn's gthread workers, Celery's
thread pool) and each asyncio task sees its own. Whoever binds restores what was there before
(`bound` does it on leaving its `with`), so a thread that serves one request after another
never carries the previous request's fields into the next.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import MappingProxyType

# The fields a log line may carry, in the order they are printed in the text format.
FIELDS = (
    "request_id",
    "task_id",
    "task_name",
    "actor",
    "dossier_key",
    "document_id",
    "version_id",
)

# An immutable empty mapping as the default: every change sets a new one (never mutated).
_fields: ContextVar[Mapping[str, object]] = ContextVar(
    "edms_log_fields", default=MappingProxyType({})
)


def current() -> Mapping[str, object]:
    """The fields bound now (read-only)."""
    return _fields.get()


def bind(**fields: object) -> Token:
    """Add `fields` to those bound now (None values are left out); returns the token that
    `unbind` takes to restore the fields as they were."""
    return _fields.set({**_fields.get(), **_checked(fields)})


def unbind(token: Token) -> None:
    """Restore the fields to what they were before the `bind` that gave `token`."""
    _fields.reset(token)


@contextmanager
def bound(**fields: object) -> Iterator[None]:
    """`with bound(dossier_key=..., version_id=...):` — log lines written inside carry them."""
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


def replace(**fields: object) -> Token:
    """Bind exactly `fields`, dropping whatever was bound (a new request or task starts
    afresh, even in a thread that kept a previous one's fields by mistake)."""
    return _fields.set(_checked(fields))


def _checked(fields: Mapping[str, object]) -> dict[str, object]:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not log context fields: {sorted(unknown)}")
    return {name: value for name, value in fields.items() if value is not None and value != ""}


class ContextFilter(logging.Filter):
    """Copies the bound fields onto each record that passes (a record's own `extra=` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _fields.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True
