"""Reactions to domain events (listed in `EDMS_EVENT_SUBSCRIBERS`)."""

from __future__ import annotations

from django.db import transaction

from dossier.models import Event, EventKind, Version
from ingest import page_images
from ingest.queueing import request_processing

NEW_CONTENT = (EventKind.DOCUMENT_REGISTERED, EventKind.VERSION_ADDED)


def queue_processing(events: list[Event]) -> None:
    """Versions were committed: create their pending processing and queue each once the
    dispatch commits (idempotent), in the lane the version came in. Runs in the committing
    process, so the extraction task is the one broker hop between an upload and its text."""
    for event in events:
        if event.kind not in NEW_CONTENT or event.document_id is None:
            continue
        version = Version.objects.filter(
            document_id=event.document_id, number=event.version
        ).first()
        if version is not None:
            request_processing(version, lane=event.lane)


def forget_expunged_page_images(events: list[Event]) -> None:
    """A document was expunged: the viewer's page images of its content, kept on disk
    (`ingest.page_images`), are forgotten once the dispatch commits. Idempotent."""
    if any(event.kind == EventKind.DOCUMENT_EXPUNGED for event in events):
        transaction.on_commit(page_images.forget_expunged)
