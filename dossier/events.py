"""The outbox of domain events and the subscribers that react to it.

An action appends events in its own transaction (`append_event`); the registry's change feed
reads them by id, and after commit a dispatcher hands each new event to every subscriber listed
in `EDMS_EVENT_SUBSCRIBERS` (one explicit list, no signals). Each subscriber keeps its own cursor,
so a slow or failing one never holds back the others, and a crashed dispatch resumes where it
stopped. Subscribers must be idempotent: an event may reach one twice, never zero times.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils.module_loading import import_string

from dossier import lanes
from dossier.models import Event, EventKind, SubscriberCursor

log = logging.getLogger(__name__)

# Any constant works: it names the lock all event writers share on PostgreSQL.
_EVENT_LOCK_ID = 0x6564_6D73
DISPATCH_TASK = "dossier.tasks.dispatch_events"


def append_event(
    kind: EventKind,
    *,
    dossier_key: str,
    document_id: uuid.UUID | None = None,
    version: int | None = None,
    payload: dict | None = None,
) -> Event:
    """Append an event inside the caller's transaction and dispatch it after commit.

    On PostgreSQL ids come from a sequence and concurrent transactions may commit out of id
    order, so a poller reading `after=<cursor>` could skip an id that commits late. Taking a
    transaction-scoped advisory lock before allocating the id makes event-writing transactions
    commit in id order. SQLite serialises writers already.

    The event carries the lane in effect (`dossier.lanes.current()`), so that the work it causes
    is queued in the same lane.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("append_event must run inside the action's transaction")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_EVENT_LOCK_ID])
    event = Event.objects.create(
        kind=kind,
        dossier_key=dossier_key,
        document_id=document_id,
        version=version,
        payload=payload or {},
        lane=lanes.current(),
    )
    transaction.on_commit(_schedule_dispatch)
    return event


def _schedule_dispatch() -> None:
    # Sent by name: `dossier.tasks` builds on this module, not the other way round. If the
    # broker is down nothing is lost: cursors only advance when events are handed over, so the
    # next dispatch (or `edms dispatch`) catches up.
    try:
        current_app.send_task(DISPATCH_TASK)
    except Exception:
        log.exception("could not queue event dispatch; events stay in the outbox")


def subscribers() -> dict[str, Callable[[Event], None]]:
    return {path: import_string(path) for path in settings.EDMS_EVENT_SUBSCRIBERS}


def claim_events(name: str, batch_size: int = 500) -> list[int]:
    """Advance `name`'s cursor over the next batch and return those event ids (short lock)."""
    with transaction.atomic():
        cursor, _ = SubscriberCursor.objects.select_for_update().get_or_create(name=name)
        ids = list(
            Event.objects.filter(id__gt=cursor.last_event_id)
            .order_by("id")
            .values_list("id", flat=True)[:batch_size]
        )
        if ids:
            cursor.last_event_id = ids[-1]
            cursor.save(update_fields=["last_event_id"])
    return ids


@dataclass(frozen=True)
class Batch:
    """Events read after a subscriber's cursor, which stood at `after` when they were read."""

    name: str
    after: int
    events: list[Event]


def pending_events(name: str, batch_size: int = 500) -> Batch:
    """The next events after `name`'s cursor, without advancing it (see `acknowledge_events`).

    For a subscriber that must not lose a batch when it dies half-way (the search indexer):
    it reads, does its work, then acknowledges, so a crash means the batch is seen again.
    """
    cursor, _ = SubscriberCursor.objects.get_or_create(name=name)
    events = Event.objects.filter(id__gt=cursor.last_event_id).order_by("id")[:batch_size]
    return Batch(name, cursor.last_event_id, list(events))


def acknowledge_events(batch: Batch) -> bool:
    """Move the cursor past `batch`; False (the batch will be read again) if someone moved the
    cursor meanwhile, e.g. a reindex rewinding it."""
    if not batch.events:
        return True
    moved = SubscriberCursor.objects.filter(name=batch.name, last_event_id=batch.after).update(
        last_event_id=batch.events[-1].id
    )
    return bool(moved)


def rewind_cursor(name: str, to_event_id: int) -> None:
    """Make `name` see every event after `to_event_id` again (never moves the cursor forward)."""
    SubscriberCursor.objects.get_or_create(name=name)
    SubscriberCursor.objects.filter(name=name, last_event_id__gt=to_event_id).update(
        last_event_id=to_event_id
    )
