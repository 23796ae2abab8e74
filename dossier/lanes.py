"""Lanes: interactive work first, bulk work behind it.

A person waiting for their one upload, a new version or an approved scan part must not queue
behind a backfile import of 100,000 documents. Work therefore runs in a *lane*:

- `INTERACTIVE` (the default): what a person or the registry does one item at a time;
- `BULK`: what arrives by the thousand — `edms import`, scan batch splitting, reprocessing,
  and API requests their caller marks as bulk (header `Edms-Lane: bulk`).

The lane in effect is a context variable, set around the work (`bulk()`, `using()`); actions
record it on the outbox event they append, and ingestion copies it onto the version's
processing, so every later step — a stage handed over, a task redelivered or queued again by
the sweeper after a restart — still knows its lane and goes to its lane's queue.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import models


class Lane(models.TextChoices):
    INTERACTIVE = "interactive", "Interactive"
    BULK = "bulk", "Bulk"


_current: contextvars.ContextVar[Lane] = contextvars.ContextVar(
    "edms_lane", default=Lane.INTERACTIVE
)


def current() -> Lane:
    """The lane of the work running now (interactive unless someone said otherwise)."""
    return _current.get()


def parse(value: str) -> Lane:
    """The lane a caller named (any case, surrounding spaces ignored); `ValueError` if none."""
    try:
        return Lane(value.strip().lower())
    except ValueError:
        choices = ", ".join(lane.value for lane in Lane)
        raise ValueError(f"unknown lane {value!r}; expected one of: {choices}") from None


@contextmanager
def using(lane: Lane | str) -> Iterator[Lane]:
    """Run the block in `lane`; the previous lane is back afterwards (also on errors)."""
    token = _current.set(Lane(lane))
    try:
        yield Lane(lane)
    finally:
        _current.reset(token)


def bulk():
    """Run the block in the bulk lane (`with lanes.bulk(): ...`)."""
    return using(Lane.BULK)
