"""Reactions to domain events (listed in `EDMS_EVENT_SUBSCRIBERS`)."""

from __future__ import annotations

import logging

from django.db import transaction

from dossier.models import Event, EventKind
from similarity.tasks import embed_document

log = logging.getLogger(__name__)

# A version's text came (or went), the document was cancelled or its content expunged: its chunks
# must follow. `embed_document` reads the current state, so one task per document suffices.
CHANGES_TEXT = {
    EventKind.DOCUMENT_PROCESSED,
    EventKind.DOCUMENT_EXPUNGED,
}


def queue_embedding(events: list[Event]) -> None:
    """Queue each document whose text changed for (re-)embedding once the dispatch commits."""
    ids = {str(e.document_id) for e in events if e.kind in CHANGES_TEXT and e.document_id}
    if ids:
        transaction.on_commit(lambda: _send(sorted(ids)))


def _send(ids: list[str]) -> None:
    try:
        for document_id in ids:
            embed_document.delay(document_id)
    except Exception:
        # Never fails the change that announced it: `edms similarity backfill` embeds whatever
        # was missed.
        log.exception("could not queue embeddings; `edms similarity backfill` catches up")
