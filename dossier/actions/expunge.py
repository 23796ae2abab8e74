"""Expunge: a document's content removed for good (a court order, a data-protection erasure,
another applicant's papers filed by mistake), leaving a tombstone.

The version rows stay, with their digest and who expunged them, when, why and on what
authority; the content, the extracted text and every rendition of those versions leave the
blob store, unless a live version still needs the same blob (content is stored once per
digest). Blob rows stay too, marked expunged, so fixity knows their absence is deliberate.
A document whose every version is expunged leaves search (the indexer reacts to
`document.expunged`) and packages.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dossier.actions.errors import ContentLocked, InvalidChange
from dossier.actions.legal_holds import refuse_if_held
from dossier.actions.payloads import document_payload
from dossier.audit import Actor, record_audit
from dossier.blob_interface import BlobLocked
from dossier.blobbackends import blob_backend
from dossier.events import append_event
from dossier.models import Blob, Document, EventKind, PageHashes, Rendition, Version
from dossier.object_lock import locked_content

log = logging.getLogger(__name__)


def expunge_document(
    document: Document,
    *,
    reason: str,
    reference: str,
    actor: Actor,
    versions: Iterable[int] | None = None,
) -> list[Version]:
    """Expunge `versions` (numbers; None: all) of `document`; returns the versions expunged now
    (already expunged ones are left as they are). Call it outside any transaction: the blobs
    are deleted once the tombstones are committed, so a failure in between leaves content
    marked expunged but present, which `purge_expunged_blobs` (or expunging again) removes.
    Refuses (`LegalHoldActive`) a document a legal hold covers, its own or its dossier's, and
    (`ContentLocked`) content the bucket keeps under S3 Object Lock, changing nothing."""
    reason, reference = reason.strip(), reference.strip()
    if not reason:
        raise InvalidChange("a reason is required to expunge", field="reason")
    if not reference:
        raise InvalidChange(
            "a reference (court order, decision, request) is required", field="reference"
        )
    wanted = None if versions is None else sorted(set(versions))
    if wanted == []:
        raise InvalidChange("name at least one version, or none for all", field="versions")
    with transaction.atomic():
        document = (
            Document.objects.select_for_update().select_related("dossier").get(pk=document.pk)
        )
        # Checked under the document's lock: a hold placed meanwhile is seen (LegalHoldActive).
        refuse_if_held(document)
        rows = Version.objects.filter(document=document)
        if wanted is not None:
            known = set(rows.filter(number__in=wanted).values_list("number", flat=True))
            if unknown := [n for n in wanted if n not in known]:
                raise InvalidChange(
                    f"the document has no version {', '.join(map(str, unknown))}", field="versions"
                )
            rows = rows.filter(number__in=wanted)
        # Locked: processing that finishes meanwhile records its text and renditions either
        # before (they are expunged with the version) or after (they are discarded, see
        # `dossier.processing_facts`).
        chosen = list(rows.filter(expunged_at__isnull=True).select_for_update().order_by("number"))
        if not chosen:
            return []
        now = timezone.now()
        blobs = _blobs_of(chosen)
        Rendition.objects.filter(version__in=chosen).delete()
        PageHashes.objects.filter(version__in=chosen).delete()
        Version.objects.filter(pk__in=[v.pk for v in chosen]).update(
            expunged_at=now,
            expunged_by=actor.user_or_none,
            expunge_reason=reason,
            expunge_reference=reference,
            text=None,
        )
        doomed = sorted(blobs - _still_needed(blobs))
        _refuse_if_locked(doomed)
        Blob.objects.filter(pk__in=doomed).update(expunged_at=now)
        all_gone = not Version.objects.filter(document=document, expunged_at__isnull=True).exists()
        if all_gone:
            document.expunged_at = now
        document.revision += 1
        document.save(update_fields=["expunged_at", "revision", "updated_at"])
        numbers = [v.number for v in chosen]
        detail = {
            "versions": numbers,
            "sha256": {str(v.number): v.blob_id for v in chosen},
            "reason": reason,
            "reference": reference,
            "removed_blobs": len(doomed),
        }
        record_audit(
            actor,
            "document.expunge",
            object_type="document",
            object_id=document.id,
            dossier_key=document.dossier.key,
            detail=detail,
        )
        # The registry hears of it even for a held scan: it must drop any copy it keeps.
        append_event(
            EventKind.DOCUMENT_EXPUNGED,
            dossier_key=document.dossier.key,
            document_id=document.id,
            payload=document_payload(document)
            | {"versions": numbers, "reason": reason, "reference": reference, "all": all_gone},
        )
    purge_expunged_blobs(doomed)
    for version in chosen:
        version.expunged_at = now
    return chosen


def discard_for_expunged(sha256s: Iterable[str]) -> None:
    """What processing made from a version that was expunged meanwhile (its text, a rendition):
    marked expunged unless a live version uses it, and deleted once the caller's transaction
    commits."""
    digests = set(sha256s)
    doomed = sorted(digests - _still_needed(digests))
    if doomed:
        Blob.objects.filter(pk__in=doomed).update(expunged_at=timezone.now())
        transaction.on_commit(lambda: purge_expunged_blobs(doomed))


def purge_expunged_blobs(sha256s: Iterable[str]) -> int:
    """Delete from the blob store the content of these blobs that are still marked expunged (a
    new upload of the same bytes meanwhile clears the mark and keeps them); how many."""
    backend = blob_backend()
    marked = Blob.objects.filter(pk__in=list(sha256s), expunged_at__isnull=False)
    purged = 0
    for sha256 in marked.values_list("sha256", flat=True):
        try:
            backend.delete(sha256)
        except BlobLocked as exc:
            # Locked after `_refuse_if_locked` looked (or by hand): it stays marked, and a
            # later purge removes it once the lock has passed.
            log.error("expunged content kept by the bucket: %s", exc)
            continue
        purged += 1
    return purged


def _refuse_if_locked(digests: list[str]) -> None:
    """Raise `ContentLocked` naming what keeps each of `digests` the bucket locks."""
    if locked := locked_content(digests):
        kept = "; ".join(f"{sha256}: {', '.join(locks)}" for sha256, locks in locked.items())
        raise ContentLocked(
            f"the blob store keeps this content under S3 Object Lock ({kept}); it can be "
            "expunged once the retention date has passed and no object legal hold remains"
        )


def _blobs_of(versions: list[Version]) -> set[str]:
    """The digests of the versions' content, extracted text and renditions."""
    digests = {v.blob_id for v in versions} | {v.text_id for v in versions if v.text_id}
    digests |= set(Rendition.objects.filter(version__in=versions).values_list("blob_id", flat=True))
    return digests


def _still_needed(digests: set[str]) -> set[str]:
    """Which of `digests` a live (not expunged) version still uses: as its content, its text or
    one of its renditions."""
    live = Version.objects.filter(expunged_at__isnull=True)
    needed = set(
        live.filter(Q(blob_id__in=digests) | Q(text_id__in=digests)).values_list(
            "blob_id", "text_id"
        )
    )
    used = {d for pair in needed for d in pair if d}
    used |= set(
        Rendition.objects.filter(
            blob_id__in=digests, version__expunged_at__isnull=True
        ).values_list("blob_id", flat=True)
    )
    return used & digests
