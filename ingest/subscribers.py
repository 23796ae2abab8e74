"""Reactions to domain events (listed in `EDMS_EVENT_SUBSCRIBERS`)."""

from __future__ import annotations

from dossier.models import Event, EventKind, Version
from ingest.pipeline import request_processing

NEW_CONTENT = (EventKind.DOCUMENT_REGISTERED, EventKind.VERSION_ADDED)


def queue_processing(event: Event) -> None:
    """A version was committed: create its pending processing and queue it (idempotent), in the
    lane the version came in."""
    if event.kind not in NEW_CONTENT or event.document_id is None:
        return
    version = Version.objects.filter(document_id=event.document_id, number=event.version).first()
    if version is not None:
        request_processing(version, lane=event.lane)
