"""A registered document's metadata, its move to another dossier, and its cancellation."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from dossier.actions.errors import DocumentCancelledError, InvalidChange
from dossier.actions.payloads import document_payload
from dossier.audit import Actor, record_audit
from dossier.events import append_event
from dossier.models import QC_STATES, Document, DocumentState, DocumentType, Dossier, EventKind

DOCUMENT_FIELDS = (
    "doc_type",
    "direction",
    "official_date",
    "channel",
    "language",
    "title",
    "registry_id",
    "visibility",
    "redaction_required",
)


def update_document(document: Document, changes: dict, *, actor: Actor) -> Document:
    """Change metadata (`DOCUMENT_FIELDS`) and/or move the document to `changes["dossier"]`."""
    unknown = set(changes) - set(DOCUMENT_FIELDS) - {"dossier"}
    if unknown:
        raise InvalidChange(f"unknown document field(s): {', '.join(sorted(unknown))}")
    with transaction.atomic():
        document = (
            Document.objects.select_for_update().select_related("dossier").get(pk=document.pk)
        )
        if document.state in (DocumentState.CANCELLED, DocumentState.QC_REJECTED):
            raise DocumentCancelledError("the document is cancelled; its metadata is frozen")
        previous_dossier = document.dossier
        changed = {}
        for name, value in changes.items():
            current = getattr(document, name)
            if current != value:
                changed[name] = _jsonable(current), _jsonable(value)
                setattr(document, name, value)
        if not changed:
            return document
        if "dossier" in changed and document.annexes.exists():
            raise InvalidChange("move the annexes with their parent one by one", field="dossier")
        document.revision += 1
        document.save()
        detail = {name: {"from": old, "to": new} for name, (old, new) in changed.items()}
        record_audit(
            actor,
            "document.update",
            object_type="document",
            object_id=document.id,
            dossier_key=document.dossier.key,
            detail=detail,
        )
        if document.state in QC_STATES:
            return document  # the registry has not heard of it yet
        payload = document_payload(document) | {"fields": sorted(changed)}
        if "dossier" in changed:
            payload["movedFrom"] = previous_dossier.key
        append_event(
            EventKind.DOCUMENT_UPDATED,
            dossier_key=document.dossier.key,
            document_id=document.id,
            payload=payload,
        )
    return document


def close_document(
    document: Document, state: str, reason: str, *, actor: Actor, action: str
) -> None:
    """Make the (locked) document a tombstone in `state`: kept with its reason and content."""
    document.state = state
    document.cancel_reason = reason.strip()
    document.cancelled_at = dt.datetime.now(tz=dt.UTC)
    document.revision += 1
    document.save()
    record_audit(
        actor,
        action,
        object_type="document",
        object_id=document.id,
        dossier_key=document.dossier.key,
        detail={"reason": document.cancel_reason},
    )


def cancel_document(document: Document, *, reason: str, actor: Actor) -> Document:
    """Cancel the document: it stays as a tombstone with its reason, content kept."""
    if not reason.strip():
        raise InvalidChange("a reason is required to cancel a document", field="cancel_reason")
    with transaction.atomic():
        document = (
            Document.objects.select_for_update().select_related("dossier").get(pk=document.pk)
        )
        if document.state == DocumentState.CANCELLED:
            return document
        if document.state in QC_STATES:
            raise InvalidChange("a document in quality control is rejected, not cancelled")
        close_document(
            document, DocumentState.CANCELLED, reason, actor=actor, action="document.cancel"
        )
        append_event(
            EventKind.DOCUMENT_CANCELLED,
            dossier_key=document.dossier.key,
            document_id=document.id,
            payload=document_payload(document) | {"reason": document.cancel_reason},
        )
    return document


def _jsonable(value):
    if isinstance(value, Dossier):
        return value.key
    if isinstance(value, DocumentType):
        return value.code
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
