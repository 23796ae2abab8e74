"""Blobs as read-only files under a `FileSystemStorage`'s folder (the embedded default).

`put` is crash-safe: the content is written under a staging name and renamed onto its key, so a
process killed halfway leaves nothing visible under the key.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import BinaryIO

from django.core.files.storage import FileSystemStorage

from dossier.blob_interface import (
    CHUNK_SIZE,
    KEY_PREFIX,
    STAGING_DIR,
    BlobMissing,
    ObjectLock,
    storage_key,
)


class FilesystemBlobs:
    """Blobs as read-only files under a `FileSystemStorage`'s folder."""

    def __init__(self, storage: FileSystemStorage):
        self.storage = storage
        self.root = Path(storage.location)
        self.staging_dir = self.root / STAGING_DIR

    def put(self, sha256: str, path: str, lock: ObjectLock | None = None) -> None:
        # Written under a staging name and renamed onto the key: the key only ever holds complete
        # content, and a corrupt copy (read-only like all stored content) is replaced atomically,
        # which needs write access to its directory only, not to the file.
        final = Path(self.storage.path(storage_key(sha256)))
        final.parent.mkdir(parents=True, exist_ok=True)
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        staging = self.staging_dir / f"{uuid.uuid4().hex}.part"
        try:
            os.link(path, staging)
        except OSError:
            # Another filesystem: copy, then make sure the bytes are on disk before the rename.
            with open(path, "rb") as src, open(staging, "wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK_SIZE)
                dst.flush()
                os.fsync(dst.fileno())
        os.chmod(staging, 0o444)
        os.replace(staging, final)
        _fsync_dir(final.parent)

    def adopt(self, sha256: str, staged_key: str, lock: ObjectLock | None = None) -> None:
        self.put(sha256, self.storage.path(staged_key))

    def delete_staged(self, staged_key: str) -> None:
        self.storage.delete(staged_key)

    def exists(self, sha256: str) -> bool:
        return os.path.exists(self.storage.path(storage_key(sha256)))

    def open(self, sha256: str) -> BinaryIO:
        try:
            return open(self.storage.path(storage_key(sha256)), "rb")
        except FileNotFoundError as exc:
            raise BlobMissing(sha256) from exc

    def read_range(
        self, sha256: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> Generator[bytes, None, None]:
        return _iter_file(self.open(sha256), start, end, chunk_size)

    def delete(self, sha256: str) -> None:
        self.storage.delete(storage_key(sha256))

    def iter_digests(self) -> Iterator[str]:
        top = self.root / KEY_PREFIX
        if top.is_dir():
            for path in top.glob("*/*/*"):
                if path.is_file():
                    yield path.name

    def local_path(self, sha256: str) -> str | None:
        return self.storage.path(storage_key(sha256))

    # A filesystem has no Object Lock: its content is kept by file modes and backups.
    def object_lock_enabled(self) -> bool:
        return False

    def lock(self, sha256: str, lock: ObjectLock) -> None:
        pass

    def set_legal_hold(self, sha256: str, on: bool) -> None:
        pass

    def locks(self, sha256: str) -> list[str]:
        return []


def _iter_file(
    handle: BinaryIO, start: int, end: int | None, chunk_size: int
) -> Generator[bytes, None, None]:
    with handle:
        handle.seek(start)
        remaining = None if end is None else end - start + 1
        while remaining is None or remaining > 0:
            want = chunk_size if remaining is None else min(chunk_size, remaining)
            chunk = handle.read(want)
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
