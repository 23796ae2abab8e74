"""Every change to a dossier goes through one of these actions.

An action validates what only the domain can judge, runs in one database transaction, writes
its audit event and appends its domain event (which the registry's feed and the subscribers
read). Content is promoted to blob storage *before* the transaction, so a version row is only
ever created for content that is completely stored.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

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
from dossier.numbering import parse_file_number


class DomainError(Exception):
    """A request the domain refuses; `field` names the offending input where there is one."""

    code = "invalid-request"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class DigestMismatch(DomainError):
    code = "digest-mismatch"


class DocumentCancelledError(DomainError):
    code = "document-cancelled"


class InvalidChange(DomainError):
    code = "invalid-change"


DOSSIER_FIELDS = (
    "ip_type",
    "title",
    "applicants",
    "representatives",
    "filing_date",
    "published_at",
    "registration_date",
    "status",
    "language",
    "priority_claims",
    "secret",
    "paper_location",
)

DOCUMENT_FIELDS = (
    "doc_type",
    "direction",
    "official_date",
    "channel",
    "language",
    "title",
    "registry_id",
    "visibility",
)


def upsert_dossier(raw_key: str, fields: dict, *, actor: Actor) -> tuple[Dossier, bool]:
    """Create the dossier for `raw_key`, or update the given fields. Returns (dossier, created).

    Idempotent: repeating the same data changes nothing and appends no event. Fields left out
    keep their values.
    """
    number = parse_file_number(raw_key)
    unknown = set(fields) - set(DOSSIER_FIELDS)
    if unknown:
        raise InvalidChange(f"unknown dossier field(s): {', '.join(sorted(unknown))}")
    try:
        with transaction.atomic():
            return _upsert_dossier(number.key, raw_key, fields, actor)
    except IntegrityError:
        # A concurrent request created the same dossier first: this one becomes an update.
        with transaction.atomic():
            return _upsert_dossier(number.key, raw_key, fields, actor)


def _upsert_dossier(key: str, raw_key: str, fields: dict, actor: Actor) -> tuple[Dossier, bool]:
    dossier = Dossier.objects.select_for_update().filter(key=key).first()
    if dossier is None:
        if not fields.get("ip_type"):
            raise InvalidChange("ip_type is required to create a dossier", field="ip_type")
        dossier = Dossier.objects.create(key=key, raw_key=raw_key.strip(), **fields)
        record_audit(
            actor,
            "dossier.create",
            object_type="dossier",
            object_id=dossier.id,
            dossier_key=key,
            detail={"raw_key": raw_key},
        )
        append_event(
            EventKind.DOSSIER_CREATED, dossier_key=key, payload={"dossierId": str(dossier.id)}
        )
        return dossier, True
    changed = sorted(name for name, value in fields.items() if getattr(dossier, name) != value)
    if not changed:
        return dossier, False
    for name in changed:
        setattr(dossier, name, fields[name])
    dossier.revision += 1
    dossier.save()
    record_audit(
        actor,
        "dossier.update",
        object_type="dossier",
        object_id=dossier.id,
        dossier_key=key,
        detail={"fields": changed},
    )
    append_event(
        EventKind.DOSSIER_UPDATED,
        dossier_key=key,
        payload={"dossierId": str(dossier.id), "fields": changed},
    )
    return dossier, False


def _store(staged: StagedFile, expected_sha256: str | None, actor: Actor) -> Blob:
    """Check and promote staged content; returns its (possibly pre-existing) blob row.

    The staged spool file is used up either way: it is removed once stored or refused.
    """
    try:
        _check(staged, expected_sha256)
    except Exception:
        staged.discard()
        raise
    # Verifies a stored copy before deduplicating onto it, and repairs a corrupt one.
    return Blob.objects.store(staged, actor=actor)


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
    blob = _store(staged, expected_sha256, actor)
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
                payload=_document_payload(document, version),
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
    blob = _store(staged, expected_sha256, actor)
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
                payload=_document_payload(document, version),
            )
    return version


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
        payload = _document_payload(document) | {"fields": sorted(changed)}
        if "dossier" in changed:
            payload["movedFrom"] = previous_dossier.key
        append_event(
            EventKind.DOCUMENT_UPDATED,
            dossier_key=document.dossier.key,
            document_id=document.id,
            payload=payload,
        )
    return document


def _close(document: Document, state: str, reason: str, *, actor: Actor, action: str) -> None:
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
        _close(document, DocumentState.CANCELLED, reason, actor=actor, action="document.cancel")
        append_event(
            EventKind.DOCUMENT_CANCELLED,
            dossier_key=document.dossier.key,
            document_id=document.id,
            payload=_document_payload(document) | {"reason": document.cancel_reason},
        )
    return document


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
            payload=_document_payload(document, version),
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
        _close(
            document, DocumentState.QC_REJECTED, reason, actor=actor, action="document.qc_reject"
        )
    return document


def record_download(
    version: Version,
    *,
    actor: Actor,
    byte_range: str | None = None,
    rendition: str | None = None,
) -> None:
    """Audit a content download (every view and download is audited, public ones too);
    `rendition` names the form read when it is not the original (e.g. `pdfa`)."""
    detail = {"version": version.number, "sha256": version.blob_id}
    if byte_range:
        detail["range"] = byte_range
    if rendition:
        detail["rendition"] = rendition
    record_audit(
        actor,
        "document.download",
        object_type="document",
        object_id=version.document_id,
        dossier_key=version.document.dossier.key,
        detail=detail,
    )


def _document_payload(document: Document, version: Version | None = None) -> dict:
    # The registry (IPAS) receives exactly such {documentId, type} notifications.
    payload = {
        "documentId": str(document.id),
        "type": document.doc_type_id,
        "registryId": document.registry_id,
    }
    if version is not None:
        payload |= {"version": version.number, "sha256": version.blob_id}
    return payload


def _jsonable(value):
    if isinstance(value, Dossier):
        return value.key
    if isinstance(value, DocumentType):
        return value.code
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
