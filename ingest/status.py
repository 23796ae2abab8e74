"""What examiners see of a dossier's text: how many documents are searchable, still being
processed, or failed (each document counted by its latest version)."""

from __future__ import annotations

from django.db.models import Count, F, Q, QuerySet

from dossier.models import Document, DocumentState, Version
from ingest.models import State


def text_status(documents: QuerySet[Document]) -> dict[str, int]:
    """`{"searchable", "processing", "failed", "without_text", "total"}` over the active
    `documents` (already filtered by what the caller may see), in one query.

    `without_text`: processed, but nothing to read (a photo, a blank page, OCR disabled)."""
    latest = Version.objects.filter(
        document__in=documents.filter(state=DocumentState.ACTIVE),
        number=F("document__latest_version"),
    )
    done = Q(processing__state=State.DONE)
    counts = latest.aggregate(
        total=Count("pk"),
        searchable=Count("pk", filter=done & Q(processing__text__isnull=False)),
        without_text=Count("pk", filter=done & Q(processing__text__isnull=True)),
        failed=Count("pk", filter=Q(processing__state=State.FAILED)),
        processing=Count(
            "pk",
            filter=Q(processing__isnull=True)
            | Q(processing__state__in=[State.PENDING, State.RUNNING]),
        ),
    )
    return {key: counts[key] for key in ("searchable", "processing", "failed", "without_text")} | {
        "total": counts["total"]
    }
