"""Reactions to domain events (listed in `EDMS_EVENT_SUBSCRIBERS`): check processed versions
for near-duplicates, forget the fingerprints of expunged content."""

from __future__ import annotations

import logging

from django.db import transaction

from dossier.models import Event, EventKind, Version
from similarity import near_duplicates
from similarity.duplicate_tasks import find_duplicates

log = logging.getLogger(__name__)


def check_for_duplicates(events: list[Event]) -> None:
    """Versions finished processing: queue their near-duplicate check once the dispatch
    commits. An expunge drops the fingerprints made of the removed content."""
    for event in events:
        if event.kind == EventKind.DOCUMENT_EXPUNGED:
            near_duplicates.forget_expunged()
        if event.kind != EventKind.DOCUMENT_PROCESSED or event.document_id is None:
            continue
        version_id = (
            Version.objects.filter(document_id=event.document_id, number=event.version)
            .values_list("id", flat=True)
            .first()
        )
        if version_id is not None:
            transaction.on_commit(lambda version_id=version_id: _send(version_id))


def _send(version_id: int) -> None:
    try:
        find_duplicates.delay(version_id)
    except Exception:
        log.exception(
            "could not queue the duplicate check of version %s; the sweep will", version_id
        )
