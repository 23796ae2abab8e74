"""Keeps the index in step with the database: from the outbox, by full rebuild, by repair.

- `sync` reads the domain events after the indexer's own cursor, re-reads the documents they
  touch, writes them to the engine in one commit per batch, records what it wrote
  (`IndexedDocument`), and only then moves the cursor. A crash anywhere means the batch is read
  again: indexing is idempotent, so the index converges.
- `reindex` fills a new generation from the database (resumable), activates it, and rewinds
  the cursor to where the rebuild started, so changes made meanwhile are applied again.
- `reconcile` compares every document's stamp in the database with the index and repairs
  missing, stale and extra entries.
- `announce_indexed` hands the events the index has applied to each `EDMS_INDEXED_SUBSCRIBERS`
  entry (saved searches), each with its own cursor that moves in the transaction of its work:
  a subscriber that fails, or a process killed before it ran, is handed the same events again
  by the next `sync` or `edms sweep`, so no notification is lost (the subscriber makes each
  one once).

Only one process writes at a time: the consumer of the `index` queue (`search.tasks`), or an
operator's `edms search` command on a new generation.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.module_loading import import_string

from dossier.events import acknowledge_events, pending_events, rewind_cursor
from dossier.models import Document, Event, EventKind, SubscriberCursor
from search import documents
from search.backends import SearchBackend, get_backend
from search.models import IndexedDocument, ReindexRun

log = logging.getLogger(__name__)

CURSOR = "search.indexer"
BATCH_SIZE = 500
DOCUMENT_EVENTS = {
    EventKind.DOCUMENT_REGISTERED,
    EventKind.VERSION_ADDED,
    EventKind.DOCUMENT_UPDATED,
    EventKind.DOCUMENT_CANCELLED,
    EventKind.DOCUMENT_PROCESSED,
    # Re-reading an expunged document finds it gone (`documents.load_sources`): it is deleted.
    EventKind.DOCUMENT_EXPUNGED,
    # A redacted copy stored or replaced: the public now searches its text (`documents.build`).
    EventKind.REDACTED_COPY_STORED,
}


def affected_documents(events: Iterable[Event]) -> list[str]:
    """The ids of the documents whose indexed state the events may have changed."""
    ids: dict[str, None] = {}
    for event in events:
        if event.kind in DOCUMENT_EVENTS and event.document_id:
            ids[str(event.document_id)] = None
        elif event.kind in (EventKind.DOSSIER_UPDATED, EventKind.CASE_EVENT):
            # Title, names, status, publication or secrecy: all its documents change. A case
            # event may move the publication date, from which the public reads them.
            ids.update(dict.fromkeys(documents.document_ids_of_dossier(event.dossier_key)))
    return list(ids)


def _max_text_chars(backend: SearchBackend) -> int:
    return getattr(backend, "max_text_chars", 1_000_000)


def index_documents(
    ids: Iterable[str],
    *,
    backend: SearchBackend | None = None,
    force: bool = False,
    generation: str | None = None,
) -> int:
    """Write the current state of the documents in `ids`, in batches of one commit each.

    Unchanged documents (same stamp as recorded) are skipped unless `force`; an entry recorded
    from a newer revision than the row read now is never replaced. Returns how many were written.
    """
    backend = backend or get_backend()
    ids = list(ids)
    written = 0
    for start in range(0, len(ids), BATCH_SIZE):
        written += _index_batch(ids[start : start + BATCH_SIZE], backend, force, generation)
    return written


def _index_batch(ids: list[str], backend, force: bool, generation: str | None) -> int:
    sources = documents.load_sources(ids)
    found = {str(s.document.id) for s in sources}
    # Documents are never deleted; an expunged one is left out of the sources, so it goes.
    gone = [i for i in ids if i not in found]
    recorded = {str(r.document_id): r for r in IndexedDocument.objects.filter(document_id__in=ids)}
    fresh = []
    for source in sources:
        previous = recorded.get(str(source.document.id))
        if previous is not None and previous.revision > source.document.revision:
            continue  # written from a newer revision already: never go back
        if previous is not None and previous.stamp == source.stamp and not force:
            continue
        fresh.append(source)
    if not fresh and not gone:
        return 0
    chars = _max_text_chars(backend)
    built = [documents.build(s, max_text_chars=chars) for s in fresh]
    backend.bulk(upserts=built, deletes=gone, generation=generation)
    _record(fresh, gone)
    return len(fresh)


def _record(sources: list[documents.Source], gone: Iterable[str]) -> None:
    now = timezone.now()
    rows = [
        IndexedDocument(
            document_id=s.document.id, revision=s.document.revision, stamp=s.stamp, indexed_at=now
        )
        for s in sources
    ]
    with transaction.atomic():
        IndexedDocument.objects.filter(document_id__in=list(gone)).delete()
        IndexedDocument.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["document_id"],
            update_fields=["revision", "stamp", "indexed_at"],
        )


def sync(*, batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> int:
    """Apply every outbox event not yet indexed; returns how many events were handled. Each
    batch is then announced (`announce_indexed`), after whatever an earlier pass failed to."""
    backend = get_backend()
    _start_announcing()
    announce_indexed()
    handled = batches = 0
    while max_batches is None or batches < max_batches:
        batch = pending_events(CURSOR, batch_size)
        if not batch.events:
            break
        index_documents(affected_documents(batch.events), backend=backend)
        acknowledge_events(batch)
        announce_indexed()
        handled += len(batch.events)
        batches += 1
    return handled


def announced_cursor(path: str) -> str:
    """The name of the cursor of indexed-events subscriber `path`: the last event handed to it."""
    return f"{CURSOR}>{path}"


def _indexed_position() -> int:
    """The last event the index has applied: the indexer's cursor."""
    cursor = SubscriberCursor.objects.filter(name=CURSOR).values_list("last_event_id", flat=True)
    return cursor.first() or 0


def _start_announcing() -> None:
    """Give a subscriber new to the list its cursor at the index's position, before the next
    batch: it is handed what the index applies from now on, not the whole outbox's history."""
    names = {announced_cursor(path) for path in settings.EDMS_INDEXED_SUBSCRIBERS}
    missing = names - set(
        SubscriberCursor.objects.filter(name__in=names).values_list("name", flat=True)
    )
    if missing:
        position = _indexed_position()
        SubscriberCursor.objects.bulk_create(
            [SubscriberCursor(name=name, last_event_id=position) for name in sorted(missing)],
            ignore_conflicts=True,
        )


def announcements_behind() -> list[str]:
    """The indexed-events subscribers not yet handed every event the index has applied (one
    failed, or its process was killed before it ran). A subscriber without a cursor yet is
    not behind: the next `sync` starts it."""
    position = _indexed_position()
    names = {announced_cursor(path): path for path in settings.EDMS_INDEXED_SUBSCRIBERS}
    late = SubscriberCursor.objects.filter(name__in=names, last_event_id__lt=position)
    return sorted(names[name] for name in late.values_list("name", flat=True))


def announce_indexed(batch_size: int = BATCH_SIZE) -> int:
    """Hand each `EDMS_INDEXED_SUBSCRIBERS` entry (one explicit list, like
    `EDMS_EVENT_SUBSCRIBERS`), e.g. saved searches checking the documents just indexed, the
    events after its own cursor that the index has applied; how many events were handed over.

    A subscriber's cursor moves in the transaction of what it did with the batch. One that
    fails is logged and keeps its cursor: the next pass (`sync`, or `edms sweep`'s hook) hands
    it the same events again, as it does after a process killed before the subscriber ran. It
    never holds the index back. Subscribers must therefore be idempotent (saved searches tell
    of a document once per search)."""
    position = _indexed_position()
    handed = 0
    for path in settings.EDMS_INDEXED_SUBSCRIBERS:
        try:
            handed += _announce_to(path, position, batch_size)
        except Exception:
            log.exception("indexed-events subscriber %s failed; it is handed them again", path)
    return handed


def _announce_to(path: str, position: int, batch_size: int) -> int:
    subscriber = import_string(path)
    handed = 0
    while True:
        with transaction.atomic():
            # Locked: the index consumer and the sweeper never hand one batch over together.
            cursor, _ = SubscriberCursor.objects.select_for_update().get_or_create(
                name=announced_cursor(path), defaults={"last_event_id": position}
            )
            events = list(
                Event.objects.filter(id__gt=cursor.last_event_id, id__lte=position).order_by("id")[
                    :batch_size
                ]
            )
            if not events:
                return handed
            subscriber(events)
            cursor.last_event_id = events[-1].id
            cursor.save(update_fields=["last_event_id"])
        handed += len(events)


# --- Full rebuild -----------------------------------------------------------------------------


def reindex(
    *,
    resume: bool = True,
    chunk: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> ReindexRun:
    """Rebuild everything into a new generation, then switch to it with no downtime.

    With `resume`, an unfinished run of the same backend continues after its last document.
    """
    backend = get_backend()
    backend_name = type(backend).__module__
    run = None
    if resume:
        run = ReindexRun.objects.filter(finished_at__isnull=True, backend=backend_name).first()
    if run is None:
        start = Event.objects.aggregate(last=Max("id"))["last"] or 0
        run = ReindexRun.objects.create(
            generation=backend.create_generation(), backend=backend_name, start_event_id=start
        )
    total = Document.objects.count()
    for sources in documents.iter_sources(after=run.after_document or None, chunk=chunk):
        chars = _max_text_chars(backend)
        built = [documents.build(s, max_text_chars=chars) for s in sources]
        backend.bulk(upserts=built, generation=run.generation)
        run.after_document = str(sources[-1].document.id)
        run.indexed += len(sources)
        run.save(update_fields=["after_document", "indexed"])
        if progress:
            progress(run.indexed, total)
    _activate(backend, run)
    return run


def _activate(backend: SearchBackend, run: ReindexRun) -> None:
    backend.activate(run.generation)
    now = timezone.now()
    stamps = dict(backend.stamps())
    revisions = dict(
        Document.objects.filter(id__in=list(stamps)).values_list("id", "revision").iterator()
    )
    with transaction.atomic():
        IndexedDocument.objects.all().delete()
        IndexedDocument.objects.bulk_create(
            [
                IndexedDocument(
                    document_id=i, revision=revisions.get(uuid.UUID(i), 0), stamp=s, indexed_at=now
                )
                for i, s in stamps.items()
            ],
            batch_size=1000,
        )
        rewind_cursor(CURSOR, run.start_event_id)
        run.finished_at = now
        run.save(update_fields=["finished_at"])


# --- Repair -----------------------------------------------------------------------------------


@dataclass
class Reconciliation:
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.stale or self.extra)


def reconcile(*, repair: bool = True) -> Reconciliation:
    """Compare the database with the index itself and (with `repair`) fix the differences."""
    backend = get_backend()
    indexed = dict(backend.stamps())
    found = Reconciliation()
    for sources in documents.iter_sources():
        for source in sources:
            document_id = str(source.document.id)
            stamp = indexed.pop(document_id, None)
            if stamp is None:
                found.missing.append(document_id)
            elif stamp != source.stamp:
                found.stale.append(document_id)
    found.extra = sorted(indexed)
    if repair and not found.clean:
        index_documents([*found.missing, *found.stale], backend=backend, force=True)
        if found.extra:
            backend.delete(found.extra)
            IndexedDocument.objects.filter(document_id__in=found.extra).delete()
    return found


# --- Lag --------------------------------------------------------------------------------------


def lag() -> dict:
    """How far the index is behind the outbox."""
    cursor = SubscriberCursor.objects.filter(name=CURSOR).values_list("last_event_id", flat=True)
    position = cursor.first() or 0
    behind = Event.objects.filter(id__gt=position)
    oldest = behind.aggregate(at=Min("at"))["at"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return {
        "cursor": position,
        "last_event": Event.objects.aggregate(last=Max("id"))["last"] or 0,
        "events_behind": behind.count(),
        "oldest_unindexed_age_seconds": round(max(age, 0.0), 3),
        "indexed_documents": IndexedDocument.objects.count(),
        "documents": Document.objects.count(),
    }
