"""Saved searches: checked against the documents the index has just applied.

`notify_matches` is an `EDMS_INDEXED_SUBSCRIBERS` entry: the index consumer calls it after each
batch is searchable (`search.indexer.announce_indexed`). It runs each saved search, as its
owner (their readers, the search's own freshness checks), restricted to the batch's documents
filed since the search was saved (`search.find.matching_documents`), so an owner is told only
of documents they may read. A document is checked again when its text arrives (`document.
processed`), and a match is told once per (saved search, document). A batch whose check fails
(the engine unavailable) is handed over again by the indexer's next pass or `edms sweep`, so
no match is lost; one already told is not told again.

Cost: one engine query per saved search that has new documents to check, per index batch.
"""

from __future__ import annotations

import logging
import uuid

from dossier.models import Document, Event, EventKind
from search import find, querylang
from search.querylang import QuerySyntaxError
from watch.models import Notification, Reason, SavedSearch
from watch.notify import notify
from watch.queries import criteria_of

log = logging.getLogger(__name__)

# A new document, or its text (first or again): what may make it match.
CHECKED = {EventKind.DOCUMENT_REGISTERED, EventKind.VERSION_ADDED, EventKind.DOCUMENT_PROCESSED}


def notify_matches(events: list[Event]) -> None:
    """Indexed-events subscriber: run every saved search on the batch's new documents."""
    ids = {e.document_id for e in events if e.kind in CHECKED and e.document_id}
    if not ids:
        return
    searches = list(SavedSearch.objects.filter(owner__is_active=True).select_related("owner"))
    if not searches:
        return  # the common case: one query per batch
    documents = {
        str(pk): (created, key)
        for pk, created, key in Document.objects.filter(id__in=ids).values_list(
            "id", "created_at", "dossier__key"
        )
    }
    told = set(
        Notification.objects.filter(saved_search__in=searches, document_id__in=ids).values_list(
            "saved_search_id", "document_id"
        )
    )
    for search in searches:
        # Documents filed since the search was saved, not yet told of.
        candidates = [
            pk
            for pk, (created, _key) in documents.items()
            if created >= search.created_at and (search.pk, uuid.UUID(pk)) not in told
        ]
        if candidates:
            _check(search, candidates, documents)


def _check(search: SavedSearch, candidates: list[str], documents: dict) -> None:
    try:
        criteria = criteria_of(search.params)
        querylang.parse(criteria.q)
        find.filters_of(criteria)
    except (ValueError, QuerySyntaxError) as exc:
        # Saved searches are checked when saved; the query language may have changed since.
        log.warning("saved search %s cannot run: %s", search.pk, exc)
        return
    # Outside the `try`: an engine that fails (a ValueError from a missing index included)
    # fails the batch, which is then handed over again (`search.indexer.announce_indexed`)
    # rather than taken for a search that cannot run and lost.
    matched = find.matching_documents(search.owner, criteria, candidates)
    for pk in sorted(matched):
        notify(
            search.owner,
            unique={"saved_search": search, "document_id": uuid.UUID(pk)},
            reason=Reason.SEARCH_MATCH,
            dossier_key=documents[pk][1],
        )
