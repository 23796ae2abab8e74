"""Content in: a new document with its version 1, or the next version of a document.

Content is checked and promoted to blob storage *before* the transaction, so a version row is
only ever created for content that is completely stored.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from dossier.actions.errors import DigestMismatch, DocumentCancelledError, InvalidChange
from dossier.actions.payloads import document_payload
from dossier.audit import Actor, record_audit
from dossier.blobstore import EmptyContent, StagedFile
from dossier.events import append_event
from dossier.models import (
    QC_STATES,
    Blob,
    Document,
    DocumentState,
    DocumentType,
    Dossier,
    EventKind,
    Version,
)
from dossier.object_lock import lock_for
from metrics.instruments import UPLOAD_BYTES, UPLOADS


def _store(
    staged: StagedFile,
    expected_sha256: str | None,
    actor: Actor,
    *,
    dossier: Dossier,
    doc_type: str,
    document: Document | None = None,
) -> Blob:
    """Check and promote staged content of `document` (None: a new one of `doc_type` in
    `dossier`); returns its (possibly pre-existing) blob row. Written under S3 Object Lock
    where the document is permanent or held (`dossier.object_lock`).

    The staged spool file is used up either way: it is removed once stored or refused.
    """
    try:
        _check(staged, expected_sha256)
        lock = lock_for(dossier, doc_type, document)
    except Exception:
        staged.discard()
        raise
    # Verifies a stored copy before deduplicating onto it, and repairs a corrupt one.
    blob = Blob.objects.store(staged, actor=actor, lock=lock)
    UPLOADS.inc()  # every way a file arrives (API, UI, resumable, import, scans) ends here
    UPLOAD_BYTES.inc(staged.size)
    return blob


def _check(staged: StagedFile, expected_sha256: str | None) -> None:
    if staged.size == 0:
        raise EmptyContent("the file is empty")
    if expected_sha256 and expected_sha256.lower() != staged.sha256:
        raise DigestMismatch(
            f"the content's SHA-256 is {staged.sha256}, not {expected_sha256.lower()}",
            field="sha256",
        )


def attach_document(
    dossier: Dossier,
    staged: StagedFile,
    *,
    doc_type: DocumentType,
    actor: Actor,
    direction: str | None = None,
    official_date: dt.date | None = None,
    channel: str = "",
    visibility: str | None = None,
    title: str = "",
    registry_id: str = "",
    language: str = "",
    parent: Document | None = None,
    expected_sha256: str | None = None,
    held_for_qc: bool = False,
) -> Version:
    """Register a new document in `dossier` with `staged` as its version 1.

    `held_for_qc` (scanned documents): the document waits in state `qc_pending`, seen only by
    records staff, and nothing is announced until `approve_scanned_document`.
    """
    if parent is not None and parent.dossier_id != dossier.id:
        raise InvalidChange("an annex must be in its parent's dossier", field="parent")
    blob = _store(staged, expected_sha256, actor, dossier=dossier, doc_type=doc_type.code)
    with transaction.atomic():
        document = Document.objects.create(
            dossier=dossier,
            doc_type=doc_type,
            direction=direction or doc_type.direction,
            official_date=official_date,
            channel=channel,
            visibility=visibility or doc_type.default_visibility,
            title=title or doc_type.label(),
            registry_id=registry_id,
            language=language,
            parent=parent,
            latest_version=1,
            state=DocumentState.QC_PENDING if held_for_qc else DocumentState.ACTIVE,
        )
        version = Version.objects.create(
            document=document,
            number=1,
            blob=blob,
            filename=staged.filename,
            media_type=blob.media_type,
            created_by=actor.user_or_none,
        )
        record_audit(
            actor,
            "document.attach",
            object_type="document",
            object_id=document.id,
            dossier_key=dossier.key,
            detail={"type": doc_type.code, "sha256": blob.sha256, "size": blob.size}
            | ({"held_for_qc": True} if held_for_qc else {}),
        )
        if not held_for_qc:
            append_event(
                EventKind.DOCUMENT_REGISTERED,
                dossier_key=dossier.key,
                document_id=document.id,
                version=1,
                payload=document_payload(document, version),
            )
    return version


def add_version(
    document: Document, staged: StagedFile, *, actor: Actor, expected_sha256: str | None = None
) -> Version:
    """Add the next numbered version to `document`; earlier versions stay untouched.

    A document held for quality control takes versions silently (QC page operations): the
    registry hears of it, with its latest version, only once it is approved.
    """
    if document.state in (DocumentState.CANCELLED, DocumentState.QC_REJECTED):
        raise DocumentCancelledError("the document is cancelled; it takes no new versions")
    blob = _store(
        staged,
        expected_sha256,
        actor,
        dossier=document.dossier,
        doc_type=document.doc_type_id,
        document=document,
    )
    with transaction.atomic():
        document = (
            Document.objects.select_for_update().select_related("dossier").get(pk=document.pk)
        )
        if document.state in (DocumentState.CANCELLED, DocumentState.QC_REJECTED):
            raise DocumentCancelledError("the document is cancelled; it takes no new versions")
        document.latest_version += 1
        document.revision += 1
        document.save(update_fields=["latest_version", "revision", "updated_at"])
        version = Version.objects.create(
            document=document,
            number=document.latest_version,
            blob=blob,
            filename=staged.filename,
            media_type=blob.media_type,
            created_by=actor.user_or_none,
        )
        record_audit(
            actor,
            "document.version",
            object_type="document",
            object_id=document.id,
            dossier_key=document.dossier.key,
            detail={"version": version.number, "sha256": blob.sha256, "size": blob.size},
        )
        if document.state not in QC_STATES:
            append_event(
                EventKind.VERSION_ADDED,
                dossier_key=document.dossier.key,
                document_id=document.id,
                version=version.number,
                payload=document_payload(document, version),
            )
    return version
