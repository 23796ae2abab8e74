"""Reactions to domain events (listed in `EDMS_EVENT_SUBSCRIBERS`)."""

from __future__ import annotations

from django.db import transaction

from dossier.models import Event, EventKind
from similarity import requeue

# A version's text came (or went), the document was cancelled or its content expunged: its chunks
# must follow. `embed_document` reads the current state, so one task per document suffices.
CHANGES_TEXT = {
    EventKind.DOCUMENT_PROCESSED,
    EventKind.DOCUMENT_EXPUNGED,
}


def queue_embedding(events: list[Event]) -> None:
    """Queue each document whose text changed for (re-)embedding once the dispatch commits,
    stamped in the dispatch's transaction (`similarity.requeue`): a send that fails, or a task
    lost later, is sent again by the sweep."""
    ids = sorted({str(e.document_id) for e in events if e.kind in CHANGES_TEXT and e.document_id})
    if ids:
        requeue.stamp(ids)
        transaction.on_commit(lambda: requeue.send(ids))
