"""Content-addressed blob storage over Django's `STORAGES["blobs"]` (`dossier.blobbackends`).

A blob's key is derived from the SHA-256 of its bytes (`sha256/ab/cd/abcd…`), so identical
content is stored once and stored content is never overwritten. Content arrives as a local
*spool* file that was hashed while it was written (`spool()` or the API's upload handler); it is
then *promoted* to its content key by the backend's crash-safe `put` (a staging file renamed into
place on a filesystem, an upload that only appears once complete on S3).

Content already under its key is re-read before a new upload is deduplicated onto it: a copy
that no longer hashes to its key (a flipped bit, a truncated file) is replaced by the new,
verified bytes the same crash-safe way, so a corrupt copy never spreads to new documents.

Only after promotion is the `Blob` row made (`Blob.objects.store`), and only then does an action
create the `Version` row that points at it, so a row never points at missing content. Reads
stream in chunks and honour byte ranges.
"""

from __future__ import annotations

import enum
import hashlib
import mimetypes
import os
import shutil
import tempfile
import time
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import filetype
from django.conf import settings
from django.core.files.storage import Storage, storages

# Re-exported: what callers of the blob store use, wherever the bytes live.
from dossier.blob_interface import CHUNK_SIZE as CHUNK_SIZE
from dossier.blob_interface import STAGING_DIR as STAGING_DIR
from dossier.blob_interface import BlobLocked as BlobLocked
from dossier.blob_interface import BlobMissing as BlobMissing
from dossier.blob_interface import DigestRefused as DigestRefused
from dossier.blob_interface import ObjectLock as ObjectLock
from dossier.blob_interface import StorageUnavailable as StorageUnavailable
from dossier.blob_interface import storage_key as storage_key
from dossier.blobbackends import blob_backend

# What `filetype` reads of a file to recognise it.
_SNIFF_BYTES = 8192


class UploadTooLarge(Exception):
    """The content exceeds `EDMS_MAX_UPLOAD_SIZE`."""

    def __init__(self, limit: int):
        super().__init__(f"the file exceeds the size limit of {limit} bytes")
        self.limit = limit


class EmptyContent(Exception):
    """Zero-byte content: nothing to store."""


class ContentCorrupt(Exception):
    """Stored content does not hash to the digest it is filed under."""

    def __init__(self, sha256: str, detail: str):
        super().__init__(f"blob {sha256}: {detail}")
        self.sha256 = sha256
        self.detail = detail


class Promotion(enum.Enum):
    """What `promote` found under the content key."""

    STORED = "stored"  # nothing: the content was written
    REPLACED = "replaced"  # a copy that no longer matched its digest: overwritten with good bytes
    PRESENT = "present"  # an intact copy: nothing written (deduplicated)


@dataclass
class StagedFile:
    """Content spooled to a local file, with the digest and size computed while writing it."""

    path: str
    sha256: str
    size: int
    filename: str
    declared_type: str = ""
    # False when someone else removes the spool (Django deletes its upload temp files).
    owned: bool = True

    def discard(self) -> None:
        if not self.owned:
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    @property
    def media_type(self) -> str:
        return detect_media_type(self.path, self.filename, self.declared_type)


@dataclass
class StagedInStore(StagedFile):
    """Content already in the blob store under `staged_key` (an upload sent straight to the
    bucket), hashed by reading it back: `promote` copies it to its content key inside the store,
    and discarding it deletes the staged copy. `path` is empty: there is no local file."""

    staged_key: str = ""
    head: bytes = b""  # its first bytes, to sniff the media type from

    def discard(self) -> None:
        blob_backend().delete_staged(self.staged_key)

    @property
    def media_type(self) -> str:
        return media_type_of(self.head, self.filename, self.declared_type)


def spool(
    chunks: Iterable[bytes], *, filename: str, declared_type: str = "", max_size: int | None = None
) -> StagedFile:
    """Write `chunks` to a local spool file while hashing; raise before exceeding `max_size`."""
    limit = settings.EDMS_MAX_UPLOAD_SIZE if max_size is None else max_size
    digest = hashlib.sha256()
    size = 0
    handle = tempfile.NamedTemporaryFile(
        dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="spool-", delete=False
    )
    try:
        with handle:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(limit)
                digest.update(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(handle.name)
        raise
    return StagedFile(handle.name, digest.hexdigest(), size, filename, declared_type)


def append_to_spool(path: str, offset: int, chunks: Iterable[bytes], *, limit: int) -> int:
    """Write `chunks` into the spool file at `path` from byte `offset` on (what was there after
    it is dropped), never past `limit` bytes in all; returns how many bytes were written.

    For uploads that arrive in several requests (resumable uploads): the bytes that did arrive
    are on disk (fsynced) even when the stream breaks off, so the client resumes after them.
    The whole spool is hashed once it is complete (`hash_spool`).
    """
    written = 0
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.truncate()
        try:
            for chunk in chunks:
                if offset + written + len(chunk) > limit:
                    raise UploadTooLarge(limit)
                handle.write(chunk)
                written += len(chunk)
        finally:
            handle.flush()
            os.fsync(handle.fileno())
    return written


def new_spool(directory: str | Path) -> str:
    """An empty spool file under `directory` (made if missing) for content still to arrive."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=directory, prefix="spool-", delete=False)
    handle.close()
    return handle.name


def hash_spool(path: str) -> tuple[str, int]:
    """The (sha256, size) of a spool file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def detect_media_type(path: str, filename: str, declared_type: str = "") -> str:
    """Sniff the media type from the content's magic bytes, then the filename, then the client.

    This is a first guess for the file wrapper listing; the ingestion pipeline refines it.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        head = b""
    return media_type_of(head, filename, declared_type)


def media_type_of(head: bytes, filename: str, declared_type: str = "") -> str:
    """`detect_media_type` for content of which `head` (its first 8 KiB) is at hand."""
    kind = filetype.guess(head) if head else None
    if kind is not None:
        return kind.mime
    guessed, _ = mimetypes.guess_type(filename or "")
    if guessed:
        return guessed
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared and declared not in {"application/octet-stream", "multipart/form-data"}:
        return declared
    return "application/octet-stream"


def blob_storage() -> Storage:
    """The Django storage under the blob backend, for tools and tests that look at it directly."""
    return storages["blobs"]


def exists(sha256: str) -> bool:
    return blob_backend().exists(sha256)


def promote(staged: StagedFile, lock: ObjectLock | None = None) -> Promotion:
    """Make the staged content available under its content key. Idempotent.

    Content already stored under the key is re-hashed first and deduplicated onto only when it
    is intact; a missing or altered copy is (re)written from the staged bytes. `lock`: the S3
    Object Lock the content is written with, or extended to on an intact copy (where the
    bucket has Object Lock; `dossier.object_lock`).
    """
    backend = blob_backend()
    present = backend.exists(staged.sha256)
    if present and _stored_copy_intact(staged):
        if lock is not None:
            backend.lock(staged.sha256, lock)
        return Promotion.PRESENT
    if isinstance(staged, StagedInStore):
        backend.adopt(staged.sha256, staged.staged_key, lock)
    else:
        backend.put(staged.sha256, staged.path, lock)
    return Promotion.REPLACED if present else Promotion.STORED


def _stored_copy_intact(staged: StagedFile) -> bool:
    """The stored copy of `staged`'s content hashes to its key (and has its size)."""
    try:
        actual, size = rehash(staged.sha256)
    except BlobMissing:
        return False
    return actual == staged.sha256 and size == staged.size


def local_path(sha256: str) -> str | None:
    """The blob's path on a local filesystem storage (for zero-copy sending), else None."""
    return blob_backend().local_path(sha256)


def read_chunks(
    sha256: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE
) -> Generator[bytes, None, None]:
    """Stream the blob's bytes `start..end` (inclusive, like HTTP ranges) in chunks.

    The content is opened before this returns, so a missing blob raises `BlobMissing` here and
    not halfway through a response that has already started.
    """
    return blob_backend().read_range(sha256, start, end, chunk_size)


def read_text_head(sha256: str, max_bytes: int) -> str:
    """The first `max_bytes` bytes (about) of a stored UTF-8 text, decoded; "" when there is
    none or its blob is missing (fixity reports that). Reads no more than it keeps."""
    if not sha256:
        return ""
    head = bytearray()
    try:
        for chunk in read_chunks(sha256):
            head += chunk
            if len(head) >= max_bytes:
                break
    except BlobMissing:
        return ""
    return bytes(head[:max_bytes]).decode("utf-8", "replace")


def read_verified(sha256: str, size: int, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Stream the whole blob, checking it against its digest and size on the way.

    The last chunk is held back until the digest is confirmed, so a reader never receives all
    of altered content: on a mismatch `ContentCorrupt` is raised in its place (a server then
    aborts the response, whose `Content-Length` the client sees unmet). Like `read_chunks`, the
    content is opened before this returns. Memory: two chunks at most.
    """
    return _iter_verified(read_chunks(sha256, chunk_size=chunk_size), sha256, size)


def _iter_verified(chunks: Generator[bytes, None, None], sha256: str, size: int) -> Iterator[bytes]:
    digest = hashlib.sha256()
    total = 0
    held = b""
    try:
        for chunk in chunks:
            if held:
                yield held
            digest.update(chunk)
            total += len(chunk)
            if total > size:
                raise ContentCorrupt(sha256, f"the stored copy is longer than {size} bytes")
            held = chunk
        if total != size:
            raise ContentCorrupt(sha256, f"the stored copy has {total} of {size} bytes")
        actual = digest.hexdigest()
        if actual != sha256:
            raise ContentCorrupt(sha256, f"the stored copy hashes to {actual}")
        if held:
            yield held
    finally:
        chunks.close()


def rehash(sha256: str) -> tuple[str, int]:
    """Re-read stored content and return its actual (sha256, size); raises `BlobMissing`."""
    digest = hashlib.sha256()
    size = 0
    for chunk in read_chunks(sha256):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def sweep_stale(older_than_seconds: int | None = None) -> int:
    """Remove spool and staging leftovers of killed processes; returns how many were removed.

    A leftover is a file, or a work directory (an ingestion run's), under the upload spool or the
    blob store's staging folder that nothing has written to for `older_than_seconds` (default
    `EDMS_SPOOL_MAX_AGE`). A file being written is modified with every chunk, so an upload in
    progress is never taken, and the default age is far longer than anything edms does with a
    finished spool (promoting it, OCR, a split) takes.
    """
    age = settings.EDMS_SPOOL_MAX_AGE if older_than_seconds is None else older_than_seconds
    cutoff = time.time() - age
    places = [Path(settings.FILE_UPLOAD_TEMP_DIR)]
    if (staging := blob_backend().staging_dir) is not None:
        places.append(staging)
    removed = 0
    for place in places:
        if not place.is_dir():
            continue
        for entry in place.iterdir():
            try:
                if entry.is_dir() and not entry.is_symlink():
                    if _last_written(entry) < cutoff:
                        shutil.rmtree(entry, ignore_errors=True)
                        removed += 1
                elif entry.lstat().st_mtime < cutoff:
                    entry.unlink(missing_ok=True)
                    removed += 1
            except FileNotFoundError:
                continue  # removed meanwhile by its owner
    return removed


def _last_written(directory: Path) -> float:
    """The latest modification of `directory` or anything in it."""
    latest = directory.lstat().st_mtime
    for parent, dirs, files in os.walk(directory):
        for name in [*dirs, *files]:
            try:
                latest = max(latest, os.lstat(os.path.join(parent, name)).st_mtime)
            except FileNotFoundError:
                continue
    return latest
