"""A document's paper original marked as received: when it came in, where it is kept."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from dossier.actions.errors import DocumentCancelledError, InvalidChange
from dossier.actions.payloads import document_payload
from dossier.audit import Actor, record_audit
from dossier.events import append_event
from dossier.models import QC_STATES, Document, DocumentState, EventKind

PAPER_FIELDS = ("paper_received_on", "paper_location", "paper_note")


def record_paper_original(
    document: Document,
    *,
    received_on: dt.date,
    location: str = "",
    note: str = "",
    actor: Actor,
) -> Document:
    """Mark the document's paper original as received on `received_on` (kept at `location`).

    Recording it again corrects the record (the audit keeps what it said before); the same
    record again changes nothing and announces nothing."""
    if received_on > timezone.localdate():
        raise InvalidChange(
            "a paper original cannot be received in the future", field="received_on"
        )
    wanted = {
        "paper_received_on": received_on,
        "paper_location": location.strip(),
        "paper_note": note.strip(),
    }
    with transaction.atomic():
        document = (
            Document.objects.select_for_update().select_related("dossier").get(pk=document.pk)
        )
        if document.state in (DocumentState.CANCELLED, DocumentState.QC_REJECTED):
            raise DocumentCancelledError("the document is cancelled; its record is frozen")
        changed = {
            name: (getattr(document, name), value)
            for name, value in wanted.items()
            if getattr(document, name) != value
        }
        if not changed:
            return document
        for name, (_, value) in changed.items():
            setattr(document, name, value)
        document.revision += 1
        document.save()
        record_audit(
            actor,
            "document.paper_original",
            object_type="document",
            object_id=document.id,
            dossier_key=document.dossier.key,
            detail={
                name: {"from": _jsonable(old), "to": _jsonable(new)}
                for name, (old, new) in changed.items()
            },
        )
        if document.state in QC_STATES:
            return document  # the registry has not heard of it yet
        append_event(
            EventKind.DOCUMENT_UPDATED,
            dossier_key=document.dossier.key,
            document_id=document.id,
            payload=document_payload(document)
            | {"fields": sorted(changed), "paperReceivedOn": received_on.isoformat()},
        )
    return document


def _jsonable(value):
    return value.isoformat() if isinstance(value, dt.date) else value
