"""Reactions to domain events (listed in `EDMS_EVENT_SUBSCRIBERS`)."""

from __future__ import annotations

from dossier.models import Event, EventKind
from search.tasks import sync_index

# dossier.created carries no document yet, and a blob's integrity is not indexed; everything else
# may change what is indexed.
IGNORED = {EventKind.DOSSIER_CREATED, EventKind.BLOB_CORRUPTED, EventKind.BLOB_REPAIRED}


def wake_indexer(event: Event) -> None:
    """Ask the index queue's consumer to catch up with the outbox.

    The indexer reads the events itself, after its own cursor, so a lost wake-up loses nothing:
    the next one (or `edms search sync`) applies every event since.
    """
    if event.kind not in IGNORED:
        sync_index.delay()
