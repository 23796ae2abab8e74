"""S3 Object Lock for the content of documents that must be kept: the bucket itself then
refuses to delete it, whatever edms or an operator with its credentials does.

Where the blob store has Object Lock (`BlobBackend.object_lock_enabled`: `EDMS_S3_OBJECT_LOCK`
auto and a bucket made with Object Lock), the content of a new version is written
- with a retention (`EDMS_S3_OBJECT_LOCK_MODE` until `EDMS_S3_OBJECT_LOCK_PERMANENT_YEARS` from
  now) when its document is permanent by its retention rule, and
- with an object legal hold when a legal hold covers the document;
and placing a legal hold sets the object legal hold ON on the content of every version it
covers, releasing it sets it OFF again on content no other active hold covers (content is
stored once per digest: two documents may share one object).

Which documents are permanent is retention's rule (`retention` sits above the domain): it
registers the answer here (`register_permanence_rule`) from its `AppConfig.ready`. Only the
content of versions is locked, not what processing derives from it (text, renditions), which
can be made again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from dossier.blob_interface import ObjectLock
from dossier.blobbackends import blob_backend
from dossier.models import Document, Dossier, LegalHold, Version

log = logging.getLogger(__name__)

# (IP type, document type code) -> whether such a document is kept for good.
PermanenceRule = Callable[[str, str], bool]
_permanence: list[PermanenceRule] = []


def register_permanence_rule(rule: PermanenceRule) -> None:
    """Have `rule` decide which documents are permanent (retention registers its rules)."""
    if rule not in _permanence:
        _permanence.append(rule)


def is_permanent(ip_type: str, doc_type: str) -> bool:
    return any(rule(ip_type, doc_type) for rule in _permanence)


def lock_for(
    dossier: Dossier, doc_type: str, document: Document | None = None
) -> ObjectLock | None:
    """The Object Lock for new content of `document` (None: a new document of `doc_type` in
    `dossier`), or None when nothing calls for one or the store has no Object Lock."""
    if not blob_backend().object_lock_enabled():
        return None
    permanent = is_permanent(dossier.ip_type, doc_type)
    holds = LegalHold.objects.filter(released_at__isnull=True, dossier_id=dossier.pk)
    held = holds.filter(
        Q(document__isnull=True) | Q(document_id=document.pk if document else None)
    ).exists()
    if not (permanent or held):
        return None
    if not permanent:
        return ObjectLock(legal_hold=True)
    return ObjectLock(
        mode=settings.EDMS_S3_OBJECT_LOCK_MODE,
        retain_until=permanent_until(),
        legal_hold=held,
    )


def permanent_until(now: dt.datetime | None = None) -> dt.datetime:
    """The retention date of permanent content written `now`: the configured years ahead."""
    now = now or timezone.now()
    years = settings.EDMS_S3_OBJECT_LOCK_PERMANENT_YEARS
    try:
        until = now.replace(year=now.year + years)
    except ValueError:  # 29 February
        until = now.replace(year=now.year + years, day=28)
    return until.replace(microsecond=0)


def hold_content(hold: LegalHold) -> int:
    """Set the object legal hold ON on the content of every version `hold` covers; how many
    blobs. Called before the hold is committed: if the store refuses, the hold is not placed
    (the caller's transaction rolls back with `StorageUnavailable`)."""
    backend = blob_backend()
    if not backend.object_lock_enabled():
        return 0
    digests = _content_of(_covered_by(hold))
    for sha256 in digests:
        backend.set_legal_hold(sha256, True)
    return len(digests)


def release_content(hold: LegalHold) -> int:
    """Set the object legal hold OFF on the content `hold` covered that no other active hold
    covers; how many blobs. Called once the release is committed. A failure leaves the content
    held in the bucket (never less protected than edms says) and is logged with the digests an
    operator then releases by hand."""
    backend = blob_backend()
    if not backend.object_lock_enabled():
        return 0
    freed = sorted(_content_of(_covered_by(hold)) - still_held_content())
    for done, sha256 in enumerate(freed):
        try:
            backend.set_legal_hold(sha256, False)
        except Exception:
            log.exception(
                "legal hold %s released, but the object legal hold stays ON for %s",
                hold.pk,
                ", ".join(freed[done:]),
            )
            raise
    return len(freed)


def still_held_content() -> set[str]:
    """The content of every version an active legal hold covers."""
    active = LegalHold.objects.filter(released_at__isnull=True)
    documents = Document.objects.filter(
        Q(pk__in=active.filter(document__isnull=False).values("document_id"))
        | Q(dossier_id__in=active.filter(document__isnull=True).values("dossier_id"))
    )
    return _content_of(documents)


def locked_content(digests: Iterable[str]) -> dict[str, list[str]]:
    """{digest: what keeps it} for the content among `digests` the store keeps locked."""
    backend = blob_backend()
    if not backend.object_lock_enabled():
        return {}
    found = {}
    for sha256 in sorted(set(digests)):
        if locks := backend.locks(sha256):
            found[sha256] = locks
    return found


def _covered_by(hold: LegalHold):
    documents = Document.objects.filter(dossier_id=hold.dossier_id)
    if hold.document_id is not None:
        documents = documents.filter(pk=hold.document_id)
    return documents


def _content_of(documents) -> set[str]:
    return set(
        Version.objects.filter(document__in=documents, expunged_at__isnull=True).values_list(
            "blob_id", flat=True
        )
    )
