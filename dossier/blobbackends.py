"""Where blob bytes live: one small interface, a filesystem and an S3 implementation.

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

import base64
import logging
import os
import shutil
import uuid
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage, storages

if TYPE_CHECKING:
    from storages.backends.s3 import S3Storage

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
KEY_PREFIX = "sha256"
STAGING_DIR = "staging"
# What S3 is told the bytes are: a blob is bytes under a digest; its media type is on its row.
_S3_CONTENT_TYPE = "application/octet-stream"
# The largest object one S3 CopyObject copies.
_MAX_SINGLE_COPY = 5 * 1024**3


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


def storage_key(sha256: str) -> str:
    return f"{KEY_PREFIX}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class BlobBackend(Protocol):
    """Content under its SHA-256, whatever holds it."""

    # A folder of the store's own for half-written files (swept when stale), or None.
    staging_dir: Path | None

    def put(self, sha256: str, path: str) -> None:
        """Store the local file at `path` under `sha256`, replacing whatever is there, so that
        the key shows the old content or all of the new, never part of it."""

    def adopt(self, sha256: str, staged_key: str) -> None:
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
        """Remove the content if present."""

    def iter_digests(self) -> Iterator[str]:
        """The digest of every stored blob, in no particular order."""

    def local_path(self, sha256: str) -> str | None:
        """The content's path on a local filesystem (for zero-copy reads), else None."""


class FilesystemBlobs:
    """Blobs as read-only files under a `FileSystemStorage`'s folder."""

    def __init__(self, storage: FileSystemStorage):
        self.storage = storage
        self.root = Path(storage.location)
        self.staging_dir = self.root / STAGING_DIR

    def put(self, sha256: str, path: str) -> None:
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

    def adopt(self, sha256: str, staged_key: str) -> None:
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


class S3Blobs:
    """Blobs as objects in an `S3Storage`'s bucket, under its `location` prefix."""

    staging_dir = None  # an unfinished upload is invisible (and the bucket's lifecycle rules)

    def __init__(self, storage: S3Storage):
        self.storage = storage
        self.prefix = (storage.location or "").strip("/")

    def bucket_key(self, key: str) -> str:
        """The bucket's key for a key of the store (under its `location` prefix)."""
        return f"{self.prefix}/{key}" if self.prefix else key

    def _key(self, sha256: str) -> str:
        return self.bucket_key(storage_key(sha256))

    def put(self, sha256: str, path: str) -> None:
        # An S3 PUT replaces the object whole and the object (multipart or not) becomes visible
        # only when the upload completes: a reader sees the old copy or the new one, never a mix.
        # From the spool's path, not a file object: boto3 then reads each part lazily from disk,
        # where `upload_fileobj` holds parts in memory (+70 MiB at 1 GB against +5 MiB this way).
        key = storage_key(sha256)
        extra = {"ContentType": _S3_CONTENT_TYPE, **self.storage.get_object_parameters(key)}
        if self.storage.default_acl:
            extra["ACL"] = self.storage.default_acl
        config = self.storage.transfer_config
        extra.update(sha256_checksum(sha256, os.path.getsize(path), config.multipart_threshold))
        from boto3.exceptions import S3UploadFailedError  # boto3 only with S3 (`_backend_for`)

        try:
            with s3_availability():
                self.storage.bucket.upload_file(
                    path, self._key(sha256), ExtraArgs=extra, Config=config
                )
        except S3UploadFailedError as exc:
            if _error_code(exc.__context__) == "BadDigest":
                raise DigestRefused(sha256) from exc
            raise

    def adopt(self, sha256: str, staged_key: str) -> None:
        # A server-side copy: the object appears under the content key whole, once copied.
        # One CopyObject up to S3's 5 GiB limit for it; a multipart copy above.
        key = storage_key(sha256)
        extra = {"ContentType": _S3_CONTENT_TYPE, **self.storage.get_object_parameters(key)}
        if self.storage.default_acl:
            extra["ACL"] = self.storage.default_acl
        source = {"Bucket": self.storage.bucket_name, "Key": self.bucket_key(staged_key)}
        client = self.storage.connection.meta.client
        with s3_availability():
            size = client.head_object(**source)["ContentLength"]
            if size <= _MAX_SINGLE_COPY:
                client.copy_object(
                    Bucket=self.storage.bucket_name,
                    Key=self._key(sha256),
                    CopySource=source,
                    MetadataDirective="REPLACE",
                    **extra,
                )
            else:
                self.storage.bucket.copy(
                    source, self._key(sha256), ExtraArgs=extra, Config=self.storage.transfer_config
                )

    def delete_staged(self, staged_key: str) -> None:
        with s3_availability():
            self.storage.connection.meta.client.delete_object(
                Bucket=self.storage.bucket_name, Key=self.bucket_key(staged_key)
            )

    def exists(self, sha256: str) -> bool:
        with s3_availability():
            return self.storage.exists(storage_key(sha256))

    def _get(self, sha256: str, **kwargs) -> dict:
        # django-storages' S3File downloads the whole object before the first read; for streaming
        # and ranges we ask for the object (or the range) directly.
        client = self.storage.connection.meta.client
        try:
            with s3_availability():
                return self.storage.bucket.Object(self._key(sha256)).get(**kwargs)
        except client.exceptions.NoSuchKey as exc:
            raise BlobMissing(sha256) from exc

    def open(self, sha256: str) -> BinaryIO:
        return self._get(sha256)["Body"]

    def read_range(
        self, sha256: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> Generator[bytes, None, None]:
        body = self._get(sha256, Range=f"bytes={start}-{'' if end is None else end}")["Body"]
        return _iter_body(body, chunk_size)

    def delete(self, sha256: str) -> None:
        with s3_availability():
            self.storage.delete(storage_key(sha256))

    def iter_digests(self) -> Iterator[str]:
        top = f"{self.prefix}/{KEY_PREFIX}/" if self.prefix else f"{KEY_PREFIX}/"
        with s3_availability():
            for summary in self.storage.bucket.objects.filter(Prefix=top):
                yield summary.key.rsplit("/", 1)[-1]

    def local_path(self, sha256: str) -> str | None:
        return None


# What S3 answers when the signature, key or token is wrong (or the key may not use the bucket).
_CREDENTIAL_ERRORS = frozenset(
    {
        "AccessDenied",
        "ExpiredToken",
        "InvalidAccessKeyId",
        "InvalidToken",
        "SignatureDoesNotMatch",
        "TokenRefreshRequired",
    }
)


@contextmanager
def s3_availability() -> Iterator[None]:
    """Turn the store refusing our credentials, or not answering at all, into
    `StorageUnavailable`, logged here once with boto's reason; other errors pass unchanged."""
    # Imported only with S3 (boto3 is loaded only for an S3Storage, see `_backend_for`).
    import botocore.exceptions
    from boto3.exceptions import S3UploadFailedError

    try:
        yield
    except (
        S3UploadFailedError,
        botocore.exceptions.ClientError,
        botocore.exceptions.NoCredentialsError,
        botocore.exceptions.PartialCredentialsError,
        botocore.exceptions.ConnectionError,
        botocore.exceptions.HTTPClientError,
    ) as exc:
        # boto3's transfer reports a refused upload as S3UploadFailedError, raised while
        # handling the ClientError that says why.
        cause = exc.__context__ if isinstance(exc, S3UploadFailedError) else exc
        reason = _unavailability(cause, botocore.exceptions)
        if reason is None:
            raise
        log.error("blob storage %s: %s", reason, cause)
        raise StorageUnavailable(reason) from exc


def sha256_checksum(sha256: str, size: int, multipart_threshold: int) -> dict[str, str]:
    """What an upload of `size` bytes sends so that the server checks them on arrival (and
    refuses a mismatch, `BadDigest`, storing nothing). One PUT (below `multipart_threshold`)
    carries the content's own SHA-256: the object stored under a content key is that content.
    A multipart upload carries each part's SHA-256, computed by boto3 as it sends the part: S3
    takes no whole-object SHA-256 for a multipart upload (only CRC checksums may be
    `FULL_OBJECT`), so there the parts are checked, each against its own digest."""
    if size < multipart_threshold:
        return {"ChecksumSHA256": base64.b64encode(bytes.fromhex(sha256)).decode("ascii")}
    return {"ChecksumAlgorithm": "SHA256"}


def _error_code(exc: BaseException | None) -> str | None:
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code")


def _unavailability(exc: BaseException | None, errors) -> str | None:
    if isinstance(exc, errors.NoCredentialsError | errors.PartialCredentialsError):
        return "refused our credentials"
    if isinstance(exc, errors.ClientError):
        code = exc.response.get("Error", {}).get("Code")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return "refused our credentials" if code in _CREDENTIAL_ERRORS or status == 403 else None
    if isinstance(exc, errors.ConnectionError | errors.HTTPClientError):
        return "is unreachable"
    return None


def _iter_body(body, chunk_size: int) -> Generator[bytes, None, None]:
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        body.close()


_chosen: tuple[Storage, BlobBackend] | None = None


def blob_backend() -> BlobBackend:
    """The backend for `STORAGES["blobs"]`, chosen once per storage Django builds (Django builds
    a new one when the setting changes, as tests do)."""
    global _chosen
    storage = storages["blobs"]
    if _chosen is None or _chosen[0] is not storage:
        _chosen = (storage, _backend_for(storage))
    return _chosen[1]


def _backend_for(storage: Storage) -> BlobBackend:
    if isinstance(storage, FileSystemStorage):
        return FilesystemBlobs(storage)
    # Imported only when the blobs are not on the filesystem: boto3 adds ~17 MiB to each
    # process (web server, every worker), and the embedded default never uses it.
    from storages.backends.s3 import S3Storage

    if isinstance(storage, S3Storage):
        return S3Blobs(storage)
    raise ImproperlyConfigured(
        f'STORAGES["blobs"]: {type(storage).__name__} is neither a FileSystemStorage nor an '
        "S3Storage, the two blob backends edms has."
    )
