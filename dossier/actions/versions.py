"""An older version made current again: restored as the next version, on the same content."""

from __future__ import annotations

from django.db import transaction

from dossier.actions.errors import ContentExpunged, DocumentCancelledError, InvalidChange
from dossier.actions.payloads import document_payload
from dossier.audit import Actor, record_audit
from dossier.events import append_event
from dossier.models import QC_STATES, Document, DocumentState, EventKind, Version

CLOSED_STATES = (DocumentState.CANCELLED, DocumentState.QC_REJECTED)


def restore_version(version: Version, *, reason: str, actor: Actor) -> Version:
    """Make `version`'s content the document's next version, audited with `reason`.

    The new version points at the same blob row (content-addressed: nothing is copied) and is
    announced as `document.version_added` with `restoredFrom`, so every subscriber treats it as
    the new version it is: ingest processes it afresh (renditions and text are a version's own
    facts, and processing's run state is ingest's; the identical bytes make this cheap to
    reason about and keep one path for every version), search indexes it as the latest.
    """
    if not reason.strip():
        raise InvalidChange("a reason is required to restore a version", field="reason")
    with transaction.atomic():
        document = (
            Document.objects.select_for_update()
            .select_related("dossier")
            .get(pk=version.document_id)
        )
        if document.state in CLOSED_STATES:
            raise DocumentCancelledError("the document is cancelled; it takes no new versions")
        old = Version.objects.select_related("blob").get(pk=version.pk)
        if old.expunged_at is not None:
            raise ContentExpunged(f"version {old.number} was expunged; it cannot be restored")
        document.latest_version += 1
        document.revision += 1
        document.save(update_fields=["latest_version", "revision", "updated_at"])
        restored = Version.objects.create(
            document=document,
            number=document.latest_version,
            blob=old.blob,
            filename=old.filename,
            media_type=old.media_type,
            created_by=actor.user_or_none,
        )
        record_audit(
            actor,
            "document.restore",
            object_type="document",
            object_id=document.id,
            dossier_key=document.dossier.key,
            detail={
                "version": restored.number,
                "restored_from": old.number,
                "sha256": old.blob_id,
                "reason": reason.strip(),
            },
        )
        if document.state not in QC_STATES:
            append_event(
                EventKind.VERSION_ADDED,
                dossier_key=document.dossier.key,
                document_id=document.id,
                version=restored.number,
                payload=document_payload(document, restored) | {"restoredFrom": old.number},
            )
    return restored
