"""Keeping the readers a vector store holds beside each chunk (`similarity.vectorstores.opensearch`)
in line with the database: after any change of a document or its dossier that may change who
reads it, a task rewrites them. Nothing is queued for a store that keeps no readers (the embedded
default)."""

from __future__ import annotations

import logging

from django.db import transaction

from dossier.models import Event, EventKind
from similarity import vectorstores
from similarity.subscribers import CHANGES_TEXT
from similarity.tasks import refresh_vector_readers

log = logging.getLogger(__name__)

# A new text re-embeds the document, which writes its readers anyway; a blob's integrity and an
# empty new dossier change no reader.
IGNORED = CHANGES_TEXT | {
    EventKind.DOSSIER_CREATED,
    EventKind.BLOB_CORRUPTED,
    EventKind.BLOB_REPAIRED,
}


def queue_readers_refresh(events: list[Event]) -> None:
    """Queue one refresh for the documents (and the dossiers, for events about a whole dossier)
    these events changed, once the dispatch commits."""
    relevant = [e for e in events if e.kind not in IGNORED]
    if not relevant or not vectorstores.configured().indexes_readers:
        return
    documents = sorted({str(e.document_id) for e in relevant if e.document_id})
    dossiers = sorted({e.dossier_key for e in relevant if not e.document_id})
    transaction.on_commit(lambda: _send(documents, dossiers))


def _send(documents: list[str], dossiers: list[str]) -> None:
    try:
        refresh_vector_readers.delay(documents, dossiers)
    except Exception:
        # Never fails the change that announced it: `edms similarity rebuild` rewrites them all,
        # and `similarity.dense` checks every candidate against the database meanwhile.
        log.exception("could not queue a refresh of the vector store's readers")
