"""An event as the world outside sees it: one item of the change feed (`GET /events`), which a
webhook delivers as is, so that a receiver parses both alike.

An item is written for its reader: what the reader may not learn from the API, it does not learn
from the feed either. So far that is an expunge's reason and reference
(`access.sees_expunge_details`, as in the API's tombstone of an expunged version). Every role
that reads the feed today sees them; the rule is applied here all the same, so that a role given
the feed later does not receive them by default."""

from __future__ import annotations

from django.utils import timezone

from dossier import access
from dossier.models import Event, EventKind

# What an expunge's event says of why and on what authority (who did it is in the audit log
# only); the rest — which document, which versions, whether all — any feed reader learns.
EXPUNGE_DETAILS = ("reason", "reference")


def feed_item(event: Event, reader) -> dict:
    """The event's public form, as `reader` (the feed's caller, a webhook's acting user) may
    see it. Times are ISO 8601 in the current time zone, UTC written `Z` (as the API writes
    every time)."""
    at = timezone.localtime(event.at).isoformat()
    return {
        "cursor": str(event.id),
        "kind": str(event.kind),
        "at": at[:-6] + "Z" if at.endswith("+00:00") else at,
        "dossier": event.dossier_key,
        "document": None if event.document_id is None else str(event.document_id),
        "version": event.version,
        "payload": payload_for(event, reader),
    }


def payload_for(event: Event, reader) -> dict:
    """The event's payload without what `reader` may not see."""
    if event.kind == EventKind.DOCUMENT_EXPUNGED and not access.sees_expunge_details(reader):
        return {key: value for key, value in event.payload.items() if key not in EXPUNGE_DETAILS}
    return event.payload
