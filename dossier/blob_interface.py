"""What every blob backend is: one small interface (`BlobBackend`), its errors, the content keys.
The implementations are `dossier.blobs_filesystem` and `dossier.blobs_s3`; `dossier.blobbackends`
chooses one.

`blob_backend()` picks the implementation once for the storage Django builds from
`STORAGES["blobs"]` (a `FileSystemStorage` or django-storages' `S3Storage`) and talks to it only
through public API: the storage's `path`, `exists`, `delete`, `bucket`, `connection`,
`location`, `transfer_config` and `get_object_parameters`, and boto3's resources and transfers.
Keys are content keys (`sha256/ab/cd/abcd…`); what is stored where, and when a copy is written
at all (never over an intact one), is `dossier.blobstore`'s business.

Both implementations make `put` crash-safe: a process killed halfway leaves nothing visible under
the key (a staging file renamed into place; an S3 upload that only appears once complete).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK_SIZE = 1024 * 1024
KEY_PREFIX = "sha256"
STAGING_DIR = "staging"


class BlobMissing(Exception):
    """A blob row exists but its content is not in storage."""


class DigestRefused(Exception):
    """The store refused bytes that do not hash to the SHA-256 sent with them (S3's
    `BadDigest`): the staged copy changed after it was hashed, or was damaged on the way.
    Nothing was stored under the content key."""

    def __init__(self, sha256: str):
        super().__init__(f"the store refused the content of blob {sha256}: it does not hash to it")
        self.sha256 = sha256


class StorageUnavailable(Exception):
    """The blob store cannot be used right now: it refused our credentials or is unreachable.
    Nothing was stored or read; the same call succeeds once an operator has fixed the store."""

    def __init__(self, reason: str):
        self.reason = reason  # "refused our credentials" / "is unreachable"
        super().__init__(f"blob storage {reason}")


class BlobLocked(Exception):
    """The store keeps the content under S3 Object Lock (a retention date not yet passed, or
    an object legal hold): it refused to delete it, and nothing was deleted."""

    def __init__(self, sha256: str, lock: str):
        super().__init__(f"blob {sha256} is under S3 Object Lock ({lock}): the store keeps it")
        self.sha256 = sha256
        self.lock = lock


@dataclass(frozen=True)
class ObjectLock:
    """What S3 Object Lock a blob is written with: a retention (`mode` GOVERNANCE or
    COMPLIANCE until `retain_until`) and/or an object legal hold."""

    mode: str | None = None
    retain_until: dt.datetime | None = None
    legal_hold: bool = False

    def headers(self) -> dict:
        """The arguments of a PutObject or CopyObject that write the object locked."""
        args: dict = {}
        if self.mode and self.retain_until:
            args["ObjectLockMode"] = self.mode
            args["ObjectLockRetainUntilDate"] = self.retain_until
        if self.legal_hold:
            args["ObjectLockLegalHoldStatus"] = "ON"
        return args


def storage_key(sha256: str) -> str:
    return f"{KEY_PREFIX}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class BlobBackend(Protocol):
    """Content under its SHA-256, whatever holds it."""

    # A folder of the store's own for half-written files (swept when stale), or None.
    staging_dir: Path | None

    def put(self, sha256: str, path: str, lock: ObjectLock | None = None) -> None:
        """Store the local file at `path` under `sha256`, replacing whatever is there, so that
        the key shows the old content or all of the new, never part of it; written under
        `lock` where the store has Object Lock (`object_lock_enabled`)."""

    def adopt(self, sha256: str, staged_key: str, lock: ObjectLock | None = None) -> None:
        """Store what the store itself holds under `staged_key` (a key relative to its
        location, like content keys: an upload sent straight to it) under `sha256`, without
        the bytes passing through this process, crash-safe like `put`. The staged copy
        stays; its owner deletes it (`delete_staged`)."""

    def delete_staged(self, staged_key: str) -> None:
        """Remove a staged copy (`adopt`'s source) if present."""

    def exists(self, sha256: str) -> bool: ...

    def open(self, sha256: str) -> BinaryIO:
        """A readable stream of the whole content; raises `BlobMissing`."""

    def read_range(
        self, sha256: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> Generator[bytes, None, None]:
        """Bytes `start..end` (inclusive, like HTTP ranges) in chunks. The content is opened
        before this returns: a missing blob raises `BlobMissing` here, not mid-stream."""

    def delete(self, sha256: str) -> None:
        """Remove the content if present (every stored version of it); raises `BlobLocked`
        when the store keeps it under Object Lock."""

    def object_lock_enabled(self) -> bool:
        """The store writes and keeps S3 Object Lock (`EDMS_S3_OBJECT_LOCK` and the bucket)."""

    def lock(self, sha256: str, lock: ObjectLock) -> None:
        """Extend the stored content's Object Lock to at least `lock` (a retention is never
        shortened; an object legal hold is set ON when `lock` has one)."""

    def set_legal_hold(self, sha256: str, on: bool) -> None:
        """Set the stored content's object legal hold ON or OFF."""

    def locks(self, sha256: str) -> list[str]:
        """What keeps each stored version of the content ("an object legal hold", "GOVERNANCE
        retention until 2126-01-01"); empty when nothing keeps it."""

    def iter_digests(self) -> Iterator[str]:
        """The digest of every stored blob, in no particular order."""

    def local_path(self, sha256: str) -> str | None:
        """The content's path on a local filesystem (for zero-copy reads), else None."""
