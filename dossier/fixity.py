"""Fixity: stored content still hashes to the digest it is filed under.

Content is checked at three moments: when it is read whole (`read_content`, while it streams
out), when `edms fixity` re-hashes it (nightly a share of the store, see `dossier.fixity_pass`),
and when the same bytes are uploaded again (`Blob.objects.store`, before deduplicating onto the
stored copy). A missing or altered copy is
*marked corrupt* and is no longer served; a new upload of the same bytes, or a fixity check that
finds the copy restored, *repairs* it. Both are audited and announced on the event feed
(`blob.corrupted`, `blob.repaired`), one event per document version whose content it is. An
expunged blob (`dossier.actions.expunge`) is absent on purpose: never checked, never missing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from celery import current_app
from django.db import transaction
from django.utils import timezone

from dossier import blobstore
from dossier.audit import SYSTEM, Actor, record_audit
from dossier.events import append_event
from dossier.models import Blob, Event, EventKind, Version
from metrics.instruments import FIXITY_CHECKS

log = logging.getLogger(__name__)
# Sent by name: `dossier.tasks` builds on this module, not the other way round.
VERIFY_TASK = "dossier.tasks.verify_new_content"


@dataclass(frozen=True)
class FixityProblem:
    sha256: str
    problem: str  # "missing" or "mismatch"
    detail: str


def check_blob(blob: Blob) -> FixityProblem | None:
    """Re-hash one blob: mark it corrupt when it is missing or altered, else record
    `verified_at` (and repair the mark of a copy that was restored meanwhile). An expunged
    blob is gone on purpose: not checked, never a problem."""
    if blob.expunged_at is not None:
        return None
    started = timezone.now()
    try:
        actual, size = blobstore.rehash(blob.sha256)
    except blobstore.BlobMissing:
        problem = FixityProblem(blob.sha256, "missing", "no content in storage")
    else:
        if actual == blob.sha256 and size == blob.size:
            mark_repaired(blob, by="fixity")
            FIXITY_CHECKS.labels(result="ok").inc()
            return None
        problem = FixityProblem(
            blob.sha256,
            "mismatch",
            f"content hashes to {actual} ({size} bytes, expected {blob.size})",
        )
    mark_corrupt(blob, problem.problem, problem.detail, unless_verified_since=started)
    FIXITY_CHECKS.labels(result=problem.problem).inc()
    return problem


def check_all(blobs=None) -> Iterator[tuple[Blob, FixityProblem | None]]:
    """Check `blobs` (default: every blob not expunged)."""
    if blobs is None:
        blobs = Blob.objects.filter(expunged_at__isnull=True).order_by("sha256").iterator()
    for blob in blobs:
        yield blob, check_blob(blob)


def verify_new_content(events: list[Event]) -> None:
    """Subscriber: read back newly filed content once, so a storage fault shows up at once.

    The reading is a task's (one per batch of events), never the committing request's."""
    sha256s = sorted(
        {
            event.payload["sha256"]
            for event in events
            if event.kind in (EventKind.DOCUMENT_REGISTERED, EventKind.VERSION_ADDED)
            and event.payload.get("sha256")
        }
    )
    unverified = list(
        Blob.objects.filter(pk__in=sha256s, verified_at__isnull=True).values_list(
            "sha256", flat=True
        )
    )
    if unverified:
        transaction.on_commit(lambda: _send_verify(unverified))


def _send_verify(sha256s: list[str]) -> None:
    try:
        current_app.send_task(VERIFY_TASK, args=[sha256s])
    except Exception:
        # Unverified content is still checked by `edms fixity`, and read back whole on download.
        log.exception("could not queue the read-back of %d new blob(s)", len(sha256s))


def verify_blobs(sha256s: list[str]) -> list[FixityProblem]:
    """Check each blob not verified yet; a problem is marked on the blob and logged."""
    problems = []
    for blob in Blob.objects.filter(pk__in=sha256s, verified_at__isnull=True):
        if (problem := check_blob(blob)) is not None:
            log.error("fixity check failed for %s: %s", blob.sha256, problem.detail)
            problems.append(problem)
    return problems


# --- Reading content ----------------------------------------------------------------------------


def read_content(blob: Blob, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Stream the blob's bytes `start..end` (inclusive); the caller refuses corrupt blobs.

    A whole read is verified against the digest as it streams (`blobstore.read_verified`): on a
    mismatch the blob is marked corrupt and `ContentCorrupt` ends the stream before its last
    chunk. A byte range cannot be verified without reading everything, so ranges are served
    unverified; whole reads and `edms fixity` find the damage, and from then on ranges of the
    blob are refused too. Missing content raises `BlobMissing` here, before any byte is sent.
    """
    started = timezone.now()
    whole = start == 0 and (end is None or end >= blob.size - 1)
    try:
        if whole:
            chunks = blobstore.read_verified(blob.sha256, blob.size)
        else:
            chunks = blobstore.read_chunks(blob.sha256, start, end)
    except blobstore.BlobMissing:
        mark_corrupt(blob, "missing", "no content in storage", unless_verified_since=started)
        raise
    return _marking_corrupt(chunks, blob, started) if whole else chunks


def _marking_corrupt(chunks: Iterator[bytes], blob: Blob, started: dt.datetime):
    try:
        yield from chunks
    except blobstore.ContentCorrupt as exc:
        mark_corrupt(blob, "mismatch", exc.detail, unless_verified_since=started)
        raise


# --- Marking ---------------------------------------------------------------------------------


def mark_corrupt(
    blob: Blob, problem: str, detail: str, *, unless_verified_since: dt.datetime | None = None
) -> bool:
    """Record that `blob`'s stored copy is missing or altered: it is no longer served, and
    `blob.corrupted` is announced. False if it was marked already, or if the content was
    verified or repaired after `unless_verified_since`: a reader that opened the old copy
    just before a repair must not condemn the new one. False too for an expunged blob."""
    now = timezone.now()
    with transaction.atomic():
        # Expunged content is absent on purpose (a reader that opened it just before), never
        # damaged.
        rows = Blob.objects.filter(pk=blob.pk, corrupt_since__isnull=True, expunged_at__isnull=True)
        if unless_verified_since is not None:
            rows = rows.exclude(verified_at__gte=unless_verified_since)
        if not rows.update(corrupt_since=now):
            return False
        record_audit(
            SYSTEM,
            "blob.corrupted",
            object_type="blob",
            object_id=blob.pk,
            detail={"problem": problem, "detail": detail},
        )
        payload = {"sha256": blob.pk, "problem": problem, "detail": detail}
        _announce(EventKind.BLOB_CORRUPTED, blob.pk, payload)
    blob.corrupt_since = now
    return True


def mark_repaired(blob: Blob, *, by: str, actor: Actor | None = None) -> bool:
    """Record that `blob`'s stored copy was just verified intact (`by`: "upload", "fixity").
    If it was marked corrupt, clear the mark, audit (by `actor`, else the system) and announce
    `blob.repaired` (True)."""
    actor = actor or SYSTEM
    now = timezone.now()
    with transaction.atomic():
        repaired = Blob.objects.filter(pk=blob.pk, corrupt_since__isnull=False).update(
            corrupt_since=None, verified_at=now
        )
        if repaired:
            record_audit(
                actor, "blob.repaired", object_type="blob", object_id=blob.pk, detail={"by": by}
            )
            _announce(EventKind.BLOB_REPAIRED, blob.pk, {"sha256": blob.pk, "by": by})
        else:
            Blob.objects.filter(pk=blob.pk).update(verified_at=now)
    blob.corrupt_since, blob.verified_at = None, now
    return bool(repaired)


def _announce(kind: EventKind, sha256: str, payload: dict) -> None:
    """One event per document version whose content the blob is, so the feed's visibility rules
    (secret dossiers, held scans) apply as to any document event; a blob that is no version's
    content (a rendition, extracted text, a scan) gets one event of no dossier. An expunged
    version is left out: its content is gone on purpose, whatever befalls a live version that
    shared it."""
    versions = (
        Version.objects.filter(blob_id=sha256, expunged_at__isnull=True)
        .select_related("document__dossier")
        .order_by("document_id", "number")
    )
    announced = False
    for version in versions:
        append_event(
            kind,
            dossier_key=version.document.dossier.key,
            document_id=version.document_id,
            version=version.number,
            payload=payload,
        )
        announced = True
    if not announced:
        append_event(kind, dossier_key="", payload=payload)
