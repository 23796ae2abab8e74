"""Scanned documents held for quality control: approved into the file wrapper, or rejected."""

from __future__ import annotations

from django.db import transaction

from dossier.actions.documents import close_document
from dossier.actions.errors import InvalidChange
from dossier.actions.payloads import document_payload
from dossier.audit import Actor, record_audit
from dossier.events import append_event
from dossier.models import Document, DocumentState, EventKind


def approve_scanned_document(document: Document, *, actor: Actor) -> Document:
    """Quality control passed: the document joins the file wrapper and the registry hears of it
    (with its latest version, which ingestion then processes). Approving twice changes nothing.
    """
    with transaction.atomic():
        document = (
            Document.objects.select_for_update().select_related("dossier").get(pk=document.pk)
        )
        if document.state == DocumentState.ACTIVE:
            return document
        if document.state != DocumentState.QC_PENDING:
            raise InvalidChange(f"a document in state {document.state} cannot be approved")
        document.state = DocumentState.ACTIVE
        document.revision += 1
        document.save()
        version = document.versions.get(number=document.latest_version)
        record_audit(
            actor,
            "document.qc_approve",
            object_type="document",
            object_id=document.id,
            dossier_key=document.dossier.key,
            detail={"version": version.number, "sha256": version.blob_id},
        )
        append_event(
            EventKind.DOCUMENT_REGISTERED,
            dossier_key=document.dossier.key,
            document_id=document.id,
            version=version.number,
            payload=document_payload(document, version),
        )
    return document


def reject_scanned_document(document: Document, *, reason: str, actor: Actor) -> Document:
    """Quality control failed (or the part was merged away): the document never reaches the
    file wrapper; it stays, with its reason, for records staff. Nothing is announced."""
    if not reason.strip():
        raise InvalidChange("a reason is required to reject a document", field="reason")
    with transaction.atomic():
        document = (
            Document.objects.select_for_update().select_related("dossier").get(pk=document.pk)
        )
        if document.state == DocumentState.QC_REJECTED:
            return document
        if document.state != DocumentState.QC_PENDING:
            raise InvalidChange(f"a document in state {document.state} cannot be rejected")
        close_document(
            document, DocumentState.QC_REJECTED, reason, actor=actor, action="document.qc_reject"
        )
    return document
