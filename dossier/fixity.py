"""Fixity: stored content still hashes to the digest it is filed under."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.utils import timezone

from dossier import blobstore
from dossier.models import Blob, Event, EventKind


@dataclass(frozen=True)
class FixityProblem:
    sha256: str
    problem: str  # "missing" or "mismatch"
    detail: str


def check_blob(blob: Blob) -> FixityProblem | None:
    """Re-hash one blob; record `verified_at` when it is intact, else describe the problem."""
    try:
        actual, size = blobstore.rehash(blob.sha256)
    except blobstore.BlobMissing:
        return FixityProblem(blob.sha256, "missing", "no content in storage")
    if actual != blob.sha256 or size != blob.size:
        return FixityProblem(
            blob.sha256,
            "mismatch",
            f"content hashes to {actual} ({size} bytes, expected {blob.size})",
        )
    Blob.objects.filter(pk=blob.pk).update(verified_at=timezone.now())
    return None


def check_all(blobs=None) -> Iterator[tuple[Blob, FixityProblem | None]]:
    for blob in blobs if blobs is not None else Blob.objects.order_by("sha256").iterator():
        yield blob, check_blob(blob)


def verify_new_content(event: Event) -> None:
    """Subscriber: read back newly filed content once, so a storage fault shows up at once."""
    if event.kind not in (EventKind.DOCUMENT_REGISTERED, EventKind.VERSION_ADDED):
        return
    sha256 = event.payload.get("sha256")
    blob = Blob.objects.filter(pk=sha256).first() if sha256 else None
    if blob is None or blob.verified_at is not None:
        return
    problem = check_blob(blob)
    if problem is not None:
        raise RuntimeError(f"fixity check failed for {sha256}: {problem.detail}")
