"""Reactions to domain events (listed in `EDMS_EVENT_SUBSCRIBERS`)."""

from __future__ import annotations

from django.db import transaction

from dossier.models import Blob, Event, EventKind, Version
from scanning import thumbnails


def forget_expunged_thumbnails(events: list[Event]) -> None:
    """A document was expunged: the QC pages' thumbnails of its scanned content, kept on disk
    (`scanning.thumbnails`), go with the content once the dispatch commits. Only blobs marked
    expunged: one a live version still shares stays, with its thumbnails. Deleting a few
    folders costs the committing request no more than queueing a task would; one rendered
    while the expunge ran is forgotten by `thumbnails.prune` (`edms sweep`)."""
    documents = {
        event.document_id
        for event in events
        if event.kind == EventKind.DOCUMENT_EXPUNGED and event.document_id is not None
    }
    if not documents:
        return
    digests = list(
        Blob.objects.filter(
            pk__in=Version.objects.filter(document_id__in=documents).values("blob_id"),
            expunged_at__isnull=False,
        ).values_list("sha256", flat=True)
    )
    if digests:
        transaction.on_commit(lambda: thumbnails.forget(digests))
