"""The outbox of domain events and the subscribers that react to it.

An action appends events in its own transaction (`append_event`); the registry's change feed
reads them by id, and right after commit the committing process itself hands the new events to
every subscriber listed in `EDMS_EVENT_SUBSCRIBERS` (one explicit list, no signals), in batches:
each subscriber is called once with the list of events after its cursor, and the cursor moves in
the same transaction. No broker hop lies between an action and its subscribers, which only write
rows and queue tasks (after the dispatch commits), so this costs a request milliseconds.

Each subscriber keeps its own cursor, so a failing one never holds back the others, and a crash
before its cursor moved means the batch is handed over again (by the next commit's dispatch, the
`dispatch_events` task or `edms dispatch`): subscribers must be idempotent, since an event may
reach one twice, never zero times.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils.module_loading import import_string

from dossier import lanes
from dossier.models import Event, EventKind, SubscriberCursor

log = logging.getLogger(__name__)

# Any constant works: it names the lock all event writers share on PostgreSQL.
_EVENT_LOCK_ID = 0x6564_6D73
# Events handed to a subscriber in one call (and one transaction).
DISPATCH_BATCH = 500

# After a subscriber failed, the dispatches that follow commits leave it alone this long (the
# catch-up dispatch, `dispatch_events` task or `edms dispatch`, always tries): a batch that fails
# every time must not cost every request another try and another traceback.
FAILURE_BACKOFF_S = 60.0

Subscriber = Callable[[list[Event]], None]
_failed_at: dict[str, float] = {}  # per process: subscriber → time.monotonic() of its failure


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
    _dispatch_after_commit()
    return event


def _dispatch_after_commit() -> None:
    """Dispatch once after commit, however many events the transaction appends.

    Each event registers a callback; the callbacks of one transaction share a `_Dispatch`
    (kept on the connection until one of them runs), and only the first that runs dispatches.
    The callbacks of a transaction that rolls back never run, so the next one shares them.
    """
    connection = transaction.get_connection()
    dispatch = getattr(connection, "edms_dispatch", None)
    if dispatch is None or dispatch.ran:
        dispatch = connection.edms_dispatch = _Dispatch()
    # robust: a dispatch that fails (the database busy, a broker down) never fails the
    # request that committed; its events stay in the outbox for the next dispatch.
    transaction.on_commit(dispatch, robust=True)


class _Dispatch:
    ran = False

    def __call__(self) -> None:
        if not self.ran:
            self.ran = True
            dispatch_events(after_commit=True)


def subscribers() -> dict[str, Subscriber]:
    return {path: import_string(path) for path in settings.EDMS_EVENT_SUBSCRIBERS}


def dispatch_events(batch_size: int = DISPATCH_BATCH, *, after_commit: bool = False) -> int:
    """Hand every event not yet seen by a subscriber to it, in batches; returns how many
    events were handed over (summed over subscribers). A subscriber that fails is logged and
    keeps its cursor, so it sees the same events again at a later dispatch; the others go on.
    `after_commit` dispatches skip a subscriber that failed in the last `FAILURE_BACKOFF_S`."""
    handed = 0
    for name in _behind():
        failed_at = _failed_at.get(name)
        if after_commit and failed_at and time.monotonic() - failed_at < FAILURE_BACKOFF_S:
            continue
        try:
            handed += dispatch_to(name, batch_size)
        except Exception:
            _failed_at[name] = time.monotonic()
            log.exception("event subscriber %s failed; its events stay in the outbox", name)
        else:
            _failed_at.pop(name, None)
    return handed


def _behind() -> list[str]:
    """The subscribers whose cursor is behind the last event (two queries, no lock)."""
    last = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    cursors = dict(
        SubscriberCursor.objects.filter(name__in=settings.EDMS_EVENT_SUBSCRIBERS).values_list(
            "name", "last_event_id"
        )
    )
    return [name for name in settings.EDMS_EVENT_SUBSCRIBERS if cursors.get(name, 0) < last]


def dispatch_to(name: str, batch_size: int = DISPATCH_BATCH) -> int:
    """Hand subscriber `name` (a dotted path) the events after its cursor, a batch at a time;
    how many. What the subscriber raises is raised, its cursor left where the batch began.

    Events committed after a batch was read are handed over by their own commit's dispatch,
    which waits for this one's lock and then reads after the cursor it left."""
    subscriber: Subscriber = import_string(name)
    handed = 0
    while True:
        with transaction.atomic():
            # Blocking: while another dispatcher holds the row, events keep committing; once
            # it lets go this one reads after the cursor it left, so none is skipped. On
            # SQLite the transaction (IMMEDIATE) is the lock: it is kept to one batch.
            cursor, _ = SubscriberCursor.objects.select_for_update().get_or_create(name=name)
            events = list(
                Event.objects.filter(id__gt=cursor.last_event_id).order_by("id")[:batch_size]
            )
            if not events:
                return handed
            subscriber(events)
            cursor.last_event_id = events[-1].id
            cursor.save(update_fields=["last_event_id"])
        handed += len(events)
        if len(events) < batch_size:
            return handed


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
