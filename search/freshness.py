"""Search never shows what the caller may not read *now*, while the index catches up.

The index is written asynchronously: the single consumer of the `index` queue follows the outbox
(`search.indexer.sync`), so after a document is made confidential, its dossier unpublished or
made secret, or the document cancelled or moved, the index holds its old readers for a while —
seconds when idle, minutes under load, for as long as the consumer is down. Two designs close
that window:

- write every visibility change to the index before the change is acknowledged, or
- check at query time the few documents whose changes the index has not applied yet.

edms does the second, measured with `python -m tests.bench.search_freshness` (10,000 documents,
SQLite, a shared 2-core machine; figures from a quiet and a loaded run). Re-indexing inside the
action costs 25-270 ms for one document and 32-370 ms for a dossier of 50, growing with the
dossier — cheap enough when it works, but it cannot always work: the embedded engine has one
writer and the index consumer holds its lock, so the action would wait for it or fail;
Elasticsearch needs a refresh (up to a second) before the write is searchable; with the index
writer down the action could only fail or leak; and `dossier` may not call `search`. The check
never depends on the index writer. It costs one query per search when nothing is pending, one
more when anything is, one per page of hits: +7 ms at p50 with nothing pending, +10-18 ms with
10-100 documents pending, +15-40 ms with 1,000-2,001 (quiet run; a trivial ORM query took
0.35-0.7 ms, the check's SQL runs on indexes in about 0.2 ms, the rest is building queries).
The window it closes is seconds to minutes, so search does this:

1. `exclusions(user)` reads, after the indexer's cursor, the outbox's changes that may take
   readers away (`dossier.updated`, `document.updated`, `document.cancelled`,
   `document.redacted_copy_stored`): first the dossiers they touch, with whether the caller may
   see each now (`visible_dossiers`, in the same query); then, if there were any, the changed
   documents the caller may not search yet (`_trusted_while_pending`, one more query). They are
   left out *inside* the engine query (must-not on dossier keys and document ids), so counts,
   facets and snippets never see them.
   A dossier-level change can take a document away only by hiding its dossier (the rules of
   `dossier.access`), so a dossier the caller still sees costs nothing more. For the public, a
   changed document it now reads only redacted is left out too: its entry may not carry the
   redacted copy's text yet, and would match and quote the original's words.
2. Bounds: above `MAX_PENDING` hidden documents, every dossier a pending change touches
   (including the one a moved document left) is left out whole; above `MAX_PENDING_DOSSIERS`
   dossiers, search answers `SearchUnavailable` ("catching up") rather than guess. Both only
   delay what the caller may read; neither leaks.
3. `drop_unreadable` checks each page of hits against the database (one query) and takes a hit
   the caller cannot read now off the page, the count and the facets — and, for the public, a
   hit it reads only redacted whose entry was indexed without the copy's text (it matched the
   original's words): the last guard, for what the outbox does not announce.

Engines must make a write searchable before `bulk` returns, because the indexer moves its cursor
then: the embedded engine commits and reloads, Elasticsearch writes with `refresh="wait_for"`.
The exclusions are query-language nodes (`querylang.KeywordSet`), so both engines build them in
their shared query construction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.db.models import Exists, ExpressionWrapper, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from dossier import redaction
from dossier.access import visible_documents, visible_dossiers
from dossier.models import Document, Dossier, Event, EventKind, SubscriberCursor
from dossier.roles import Role, role_of
from search import querylang as q
from search.backends import SearchResult, SearchUnavailable
from search.indexer import CURSOR

log = logging.getLogger(__name__)

# The changes that can take readers away; registrations, versions and extracted text cannot.
VISIBILITY_EVENTS = (
    EventKind.DOSSIER_UPDATED,
    EventKind.CASE_EVENT,  # a withdrawal can take the publication date away
    EventKind.DOCUMENT_UPDATED,
    EventKind.DOCUMENT_CANCELLED,
    # A redacted copy takes the original's words away from the public (`dossier.redaction`).
    EventKind.REDACTED_COPY_STORED,
)
MAX_PENDING = 2_000  # hidden documents left out one by one; beyond, whole dossiers
MAX_PENDING_DOSSIERS = 5_000  # dossiers touched by pending changes; beyond, unavailable


@dataclass(frozen=True)
class Exclusions:
    """What the engine must leave out for one caller: documents by id, dossiers by key."""

    documents: frozenset[str] = frozenset()
    dossiers: frozenset[str] = frozenset()

    def filters(self) -> list[q.Node]:
        nodes: list[q.Node] = []
        if self.documents:
            nodes.append(q.Not(q.KeywordSet("id", self.documents)))
        if self.dossiers:
            nodes.append(q.Not(q.KeywordSet("dossier", self.dossiers)))
        return nodes


def _reads_as_public(user) -> bool:
    return role_of(user) == Role.PUBLIC


def _trusted_while_pending(user):
    """Of the documents a pending change touches, those whose index entry `user` may search
    before the indexer applies the change: those they may read, less, for the public, those it
    reads only redacted (the entry may still open the original's words to it)."""
    documents = visible_documents(user)
    if _reads_as_public(user):
        documents = documents.exclude(redaction.read_only_redacted_q())
    return documents


def _pending_events():
    """Visibility changes the indexer has not acknowledged (so may not be in the index yet)."""
    cursor = SubscriberCursor.objects.filter(name=CURSOR).values("last_event_id")[:1]
    after = Coalesce(Subquery(cursor), Value(0), output_field=models.BigIntegerField())
    return Event.objects.filter(id__gt=after, kind__in=VISIBILITY_EVENTS).order_by()


def exclusions(user) -> Exclusions:
    """What of the not-yet-indexed changes `user` may not read now (see the module docstring)."""
    pending = _pending_events()
    # One row per dossier a pending change touches, with whether the caller may see it now
    # (judged once per dossier, not once per event).
    seen = Exists(visible_dossiers(user).filter(pk=OuterRef("pk")))
    rows = list(
        Dossier.objects.filter(key__in=pending.values("dossier_key"))
        .annotate(seen=seen)
        .order_by()
        .values_list("key", "seen")[: MAX_PENDING_DOSSIERS + 1]
    )
    if not rows:
        return Exclusions()
    if len(rows) > MAX_PENDING_DOSSIERS:
        raise _catching_up()
    # A document indexed under a dossier the caller cannot see now never shows, whatever else
    # changed: the index would show that dossier's key and title.
    unseen = frozenset(key for key, dossier_seen in rows if not dossier_seen)
    readable = Exists(_trusted_while_pending(user).filter(pk=OuterRef("pk")))
    hidden = list(
        Document.objects.filter(pk__in=pending.exclude(document_id=None).values("document_id"))
        .annotate(readable=readable)
        .filter(readable=False)
        .values_list("pk", flat=True)[: MAX_PENDING + 1]
    )
    if len(hidden) > MAX_PENDING:
        return _whole_dossiers(pending, {key for key, _ in rows})
    return Exclusions(documents=frozenset(str(pk) for pk in hidden), dossiers=unseen)


def _whole_dossiers(pending, touched: set[str]) -> Exclusions:
    """Too many hidden documents to leave out one by one: every dossier the changes touch,
    including the one a moved document left (its index entry still names that one)."""
    moved = pending.filter(kind=EventKind.DOCUMENT_UPDATED).values_list(
        "payload__movedFrom", flat=True
    )
    left = {key for key in moved.distinct()[: MAX_PENDING_DOSSIERS + 1] if key}
    if len(touched | left) > MAX_PENDING_DOSSIERS:
        raise _catching_up()
    return Exclusions(dossiers=frozenset(touched | left))


def _catching_up() -> SearchUnavailable:
    return SearchUnavailable(
        "search is catching up with many recent changes to who may read what; "
        "try again in a few minutes"
    )


def drop_unreadable(user, result: SearchResult) -> SearchResult:
    """Take the hits `user` cannot read now off the page, the count and the facets (one query)."""
    if not result.hits:
        return result
    ids = [hit.id for hit in result.hits if _is_uuid(hit.id)]
    documents = visible_documents(user).filter(pk__in=ids)
    if _reads_as_public(user):
        only_redacted = ExpressionWrapper(
            redaction.read_only_redacted_q(), output_field=models.BooleanField()
        )
        rows = list(
            documents.annotate(only_redacted=only_redacted).values_list("pk", "only_redacted")
        )
        needs_copy = {str(pk) for pk, only in rows if only}
        readable = {str(pk) for pk, _ in rows}
    else:
        needs_copy, readable = set(), {str(pk) for pk in documents.values_list("pk", flat=True)}
    # An entry indexed before the public came to read the document only redacted matched and
    # quoted the original's words: never shown, whatever else it holds.
    dropped = [
        hit
        for hit in result.hits
        if hit.id not in readable or (hit.id in needs_copy and not hit.fields.get("redacted"))
    ]
    if not dropped:
        return result
    gone = {hit.id for hit in dropped}
    # The outbox did not announce this change (or the index lost a write): reconcile repairs it.
    log.warning("search dropped hits the caller may not read now: %s", [h.id for h in dropped])
    facets = {name: dict(buckets) for name, buckets in result.facets.items()}
    for hit in dropped:
        for name, value in _facet_values(hit.fields):
            counts = facets.get(name)
            if counts and value in counts:
                counts[value] -= 1
    return SearchResult(
        count=max(result.count - len(dropped), 0),
        hits=[hit for hit in result.hits if hit.id not in gone],
        facets={
            name: [(value, n) for value, n in counts.items() if n > 0]
            for name, counts in facets.items()
        },
    )


def _facet_values(fields: dict) -> Iterable[tuple[str, str]]:
    official = fields.get("official_date")
    yield "year", str(official.year) if official else ""
    for name in ("ip_type", "type", "direction", "language", "status"):
        yield name, fields.get(name) or ""


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError):
        return False
    return True
