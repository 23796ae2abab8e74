"""Reactions to domain events (listed in `EDMS_EVENT_SUBSCRIBERS`)."""

from __future__ import annotations

from django.db import transaction

from dossier.actions.expunge import discard_for_expunged
from dossier.models import Blob, Event, EventKind, Version
from scanning import thumbnails
from scanning.models import BatchState, ScanBatch

# A batch in these states is read again (split, or split anew by the sweeper): its source stays.
BEING_SPLIT = (BatchState.QUEUED, BatchState.SPLITTING)


def follow_expunges(events: list[Event]) -> None:
    """A document was expunged: what scanning keeps of its pages goes too.

    - The scanner's file of each batch it was split from holds the same pages: it is expunged
      as well (unless a live version is the same file), once the batch is split, since
      nothing reads it after that; the batch's other parts keep their own content.
    - The QC pages' thumbnails of its content, kept on disk (`scanning.thumbnails`), are
      forgotten once the dispatch commits (a few folders: no more than queueing a task would
      cost); one rendered while the expunge ran is forgotten by `thumbnails.prune`.

    Idempotent: a second delivery finds the sources marked and the folders gone."""
    documents = {
        event.document_id
        for event in events
        if event.kind == EventKind.DOCUMENT_EXPUNGED and event.document_id is not None
    }
    if not documents:
        return
    sources = ScanBatch.objects.filter(parts__document_id__in=documents).exclude(
        state__in=BEING_SPLIT
    )
    discard_for_expunged(sources.values_list("source_id", flat=True).distinct())
    digests = list(
        Blob.objects.filter(
            pk__in=Version.objects.filter(document_id__in=documents).values("blob_id"),
            expunged_at__isnull=False,
        ).values_list("sha256", flat=True)
    )
    if digests:
        transaction.on_commit(lambda: thumbnails.forget(digests))
