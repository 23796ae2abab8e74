"""Legal holds: a dossier or one document kept untouched, whatever retention says, while a
court case, an appeal or an investigation needs it.

A hold names its reason and reference, and who placed it when; it is released, never deleted,
with a reason. While any hold covers a document, the expunge action refuses it (`LegalHoldActive`,
answered as the problem `legal-hold`) and retention leaves it out of the disposition queue.
Where the bucket has S3 Object Lock, the content a hold covers gets an object legal hold too
(`dossier.object_lock`): set before the hold is committed, cleared after its release is.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from dossier.actions.errors import InvalidChange, LegalHoldActive
from dossier.audit import Actor, record_audit
from dossier.events import append_event
from dossier.models import Document, Dossier, EventKind, LegalHold
from dossier.object_lock import hold_content, release_content


def active_holds_on(document: Document) -> QuerySet[LegalHold]:
    """The unreleased holds covering `document`: its own and its dossier's."""
    return LegalHold.objects.filter(
        released_at__isnull=True, dossier_id=document.dossier_id
    ).filter(Q(document__isnull=True) | Q(document_id=document.pk))


def held_documents() -> QuerySet[Document]:
    """Every document an unreleased hold covers (as a filter for other querysets)."""
    active = LegalHold.objects.filter(released_at__isnull=True)
    return Document.objects.filter(
        Q(pk__in=active.filter(document__isnull=False).values("document_id"))
        | Q(dossier_id__in=active.filter(document__isnull=True).values("dossier_id"))
    )


def refuse_if_held(document: Document) -> None:
    """Raise `LegalHoldActive` naming the hold's reference when any hold covers `document`."""
    hold = active_holds_on(document).order_by("placed_at").first()
    if hold is not None:
        what = "its dossier" if hold.document_id is None else "the document"
        raise LegalHoldActive(
            f"a legal hold on {what} ({hold.reference}, placed {hold.placed_at:%Y-%m-%d} by "
            f"{hold.placed_by}) keeps it until the hold is released"
        )


def place_legal_hold(
    dossier: Dossier,
    *,
    reason: str,
    reference: str,
    actor: Actor,
    document: Document | None = None,
) -> LegalHold:
    """Hold `dossier` (or only `document` of it) until released; returns the new hold."""
    reason, reference = reason.strip(), reference.strip()
    if not reason:
        raise InvalidChange("a reason is required for a legal hold", field="reason")
    if not reference:
        raise InvalidChange(
            "a reference (court case, order, request) is required for a legal hold",
            field="reference",
        )
    if document is not None and document.dossier_id != dossier.pk:
        raise InvalidChange("the document is not in this dossier", field="document")
    with transaction.atomic():
        hold = LegalHold.objects.create(
            dossier=dossier,
            document=document,
            reason=reason,
            reference=reference,
            placed_by=actor.name,
            placed_at=timezone.now(),
        )
        _announce(hold, "dossier.legal_hold", EventKind.LEGAL_HOLD_PLACED, actor)
        # Last, inside the transaction: a store that refuses leaves no hold placed in edms
        # that the bucket does not keep (StorageUnavailable rolls it back).
        hold_content(hold)
    return hold


def release_legal_hold(hold: LegalHold, *, reason: str, actor: Actor) -> LegalHold:
    """Release `hold` (it stays, with who released it, when and why); returns it."""
    reason = reason.strip()
    if not reason:
        raise InvalidChange("a reason is required to release a legal hold", field="reason")
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().select_related("dossier").get(pk=hold.pk)
        if hold.released_at is not None:
            raise InvalidChange("the legal hold is released already")
        hold.released_by = actor.name
        hold.released_at = timezone.now()
        hold.release_reason = reason
        hold.save(update_fields=["released_by", "released_at", "release_reason"])
        _announce(hold, "dossier.legal_hold_release", EventKind.LEGAL_HOLD_RELEASED, actor)
        # Once committed (until then the content stays held in the bucket too); a store that
        # refuses then leaves it held, logged with the digests (`release_content`).
        transaction.on_commit(lambda: release_content(hold), robust=True)
    return hold


def _announce(hold: LegalHold, action: str, kind: EventKind, actor: Actor) -> None:
    """The audit row and the outbox event of a hold placed or released."""
    dossier = Dossier.objects.only("key").get(pk=hold.dossier_id)
    detail = {
        "hold": str(hold.id),
        "document": str(hold.document_id) if hold.document_id else None,
        "reason": hold.reason,
        "reference": hold.reference,
    }
    if hold.released_at is not None:
        detail["release_reason"] = hold.release_reason
    record_audit(
        actor,
        action,
        object_type="document" if hold.document_id else "dossier",
        object_id=hold.document_id or hold.dossier_id,
        dossier_key=dossier.key,
        detail=detail,
    )
    append_event(
        kind,
        dossier_key=dossier.key,
        document_id=hold.document_id,
        payload={
            "holdId": str(hold.id),
            "dossierId": str(hold.dossier_id),
            "documentId": str(hold.document_id) if hold.document_id else None,
            "reference": hold.reference,
            "active": hold.released_at is None,
        },
    )
