"""A redacted copy of a version stored for the public (see `dossier.redaction`)."""

from __future__ import annotations

from django.db import transaction

from dossier import redaction
from dossier.actions.errors import ContentExpunged, DocumentCancelledError, InvalidChange
from dossier.actions.payloads import document_payload
from dossier.audit import Actor, record_audit
from dossier.blobstore import StagedFile, spool
from dossier.events import append_event
from dossier.models import (
    QC_STATES,
    Blob,
    Document,
    DocumentState,
    EventKind,
    Rendition,
    RenditionKind,
    Version,
)

PDF = "application/pdf"
TEXT = "text/plain"


def store_redacted_copy(version: Version, staged: StagedFile, *, actor: Actor) -> Rendition:
    """Store `staged` (a flattened PDF) as `version`'s redacted copy for the public, with the text
    extracted from it as the public's text; a new copy replaces an earlier one (the audit keeps
    its digest). The original, its text and renditions are never touched.

    Refused: anything but a PDF, a PDF still carrying unapplied redaction annotations, a version
    that was expunged, a cancelled document. The spool is used up either way."""
    try:
        if staged.media_type != PDF:
            raise InvalidChange(f"a redacted copy is a PDF, not {staged.media_type}", field="file")
        try:
            pages = redaction.check_flattened(staged.path)
            text = redaction.extract_text(staged.path)
        except redaction.NotARedactedPdf as exc:
            raise InvalidChange(str(exc), field="file") from None
        if version.expunged_at is not None:
            raise ContentExpunged(f"version {version.number} was expunged")
        copy = Blob.objects.store(staged, media_type=PDF, actor=actor, keep_spool=True)
        text_blob = _store_text(text)
    finally:
        staged.discard()
    with transaction.atomic():
        document = (
            Document.objects.select_for_update()
            .select_related("dossier")
            .get(pk=version.document_id)
        )
        if document.state in (DocumentState.CANCELLED, DocumentState.QC_REJECTED):
            raise DocumentCancelledError("the document is cancelled; its record is frozen")
        version = Version.objects.select_for_update().get(pk=version.pk)
        if version.expunged_at is not None:
            raise ContentExpunged(f"version {version.number} was expunged")
        previous = redaction.redacted(version)
        rendition, _ = Rendition.objects.update_or_create(
            version=version,
            kind=RenditionKind.REDACTED,
            defaults={"blob": copy, "media_type": PDF},
        )
        Rendition.objects.update_or_create(
            version=version,
            kind=RenditionKind.REDACTED_TEXT,
            defaults={"blob": text_blob, "media_type": TEXT},
        )
        # Public search and listings follow the document's revision (`search.documents`).
        document.revision += 1
        document.save(update_fields=["revision", "updated_at"])
        record_audit(
            actor,
            "document.redacted_copy",
            object_type="document",
            object_id=document.id,
            dossier_key=document.dossier.key,
            detail={
                "version": version.number,
                "sha256": copy.sha256,
                "pages": pages,
                "text_sha256": text_blob.sha256,
                "replaced": previous.blob_id if previous else None,
            },
        )
        if document.state not in QC_STATES:  # the registry has not heard of a held scan yet
            append_event(
                EventKind.REDACTED_COPY_STORED,
                dossier_key=document.dossier.key,
                document_id=document.id,
                version=version.number,
                payload=document_payload(document)
                | {"version": version.number, "redactedSha256": copy.sha256},
            )
    return rendition


def _store_text(text: str) -> Blob:
    # Made by us from a bounded upload, so no upload limit applies.
    staged = spool(
        [text.encode("utf-8")], filename="redacted.txt", declared_type=TEXT, max_size=2**62
    )
    return Blob.objects.store(staged, media_type=TEXT)
