"""An event as the world outside sees it: one item of the change feed (`GET /events`), which a
webhook delivers as is, so that a receiver parses both alike."""

from __future__ import annotations

from django.utils import timezone

from dossier.models import Event


def feed_item(event: Event) -> dict:
    """The event's public form. Times are ISO 8601 in the current time zone, UTC written `Z`
    (as the API writes every time)."""
    at = timezone.localtime(event.at).isoformat()
    return {
        "cursor": str(event.id),
        "kind": str(event.kind),
        "at": at[:-6] + "Z" if at.endswith("+00:00") else at,
        "dossier": event.dossier_key,
        "document": None if event.document_id is None else str(event.document_id),
        "version": event.version,
        "payload": event.payload,
    }
