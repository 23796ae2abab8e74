"""Blobs as objects in an S3 bucket (django-storages' `S3Storage`, boto3's resources and
transfers): checked on arrival by their SHA-256, visible only once an upload completes, written
with S3 Object Lock where the bucket has it (`dossier.object_lock`).

Imported only when the blobs are on S3 (`dossier.blobbackends`): boto3 adds ~17 MiB
to each process, and the embedded default never uses it.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, BinaryIO

from django.conf import settings

from dossier.blob_interface import (
    CHUNK_SIZE,
    KEY_PREFIX,
    BlobLocked,
    BlobMissing,
    DigestRefused,
    ObjectLock,
    StorageUnavailable,
    storage_key,
)

if TYPE_CHECKING:
    from storages.backends.s3 import S3Storage

log = logging.getLogger(__name__)

# What S3 is told the bytes are: a blob is bytes under a digest; its media type is on its row.
_S3_CONTENT_TYPE = "application/octet-stream"
# The largest object one S3 CopyObject copies.
_MAX_SINGLE_COPY = 5 * 1024**3


class S3Blobs:
    """Blobs as objects in an `S3Storage`'s bucket, under its `location` prefix."""

    staging_dir = None  # an unfinished upload is invisible (and the bucket's lifecycle rules)

    def __init__(self, storage: S3Storage, object_lock: str | None = None):
        self.storage = storage
        self.prefix = (storage.location or "").strip("/")
        # "auto" (use Object Lock where the bucket has it) or "off"; learnt once per backend.
        mode = object_lock or settings.EDMS_S3_OBJECT_LOCK
        self._object_lock: bool | None = False if mode == "off" else None
        self._versioning: bool | None = None

    def bucket_key(self, key: str) -> str:
        """The bucket's key for a key of the store (under its `location` prefix)."""
        return f"{self.prefix}/{key}" if self.prefix else key

    def _key(self, sha256: str) -> str:
        return self.bucket_key(storage_key(sha256))

    def put(self, sha256: str, path: str, lock: ObjectLock | None = None) -> None:
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
        extra.update(self._lock_headers(lock))
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

    def adopt(self, sha256: str, staged_key: str, lock: ObjectLock | None = None) -> None:
        # A server-side copy: the object appears under the content key whole, once copied.
        # One CopyObject up to S3's 5 GiB limit for it; a multipart copy above.
        key = storage_key(sha256)
        extra = {"ContentType": _S3_CONTENT_TYPE, **self.storage.get_object_parameters(key)}
        if self.storage.default_acl:
            extra["ACL"] = self.storage.default_acl
        extra.update(self._lock_headers(lock))
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
        client = self.storage.connection.meta.client
        key = self.bucket_key(staged_key)
        with s3_availability():
            if not self._versioned():
                client.delete_object(Bucket=self.storage.bucket_name, Key=key)
                return
            # Versioned: every version by its id, or the upload's bytes would stay behind.
            for version in self._key_versions(key, markers=True):
                client.delete_object(Bucket=self.storage.bucket_name, Key=key, VersionId=version)

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
        if start == 0 and end is None:
            # The whole object, asked without a range: S3 answers `bytes=0-` of an empty
            # object (an extracted text with no words) with 416 InvalidRange.
            return _iter_body(self.open(sha256), chunk_size)
        body = self._get(sha256, Range=f"bytes={start}-{'' if end is None else end}")["Body"]
        return _iter_body(body, chunk_size)

    def delete(self, sha256: str) -> None:
        if not self._versioned():
            with s3_availability():
                self.storage.delete(storage_key(sha256))
            return
        # In a versioned bucket (every bucket with Object Lock) a plain DELETE only hides the
        # content behind a delete marker: each version is deleted by its id, and a version the
        # bucket keeps (retention, legal hold) is reported, not hidden.
        client = self.storage.connection.meta.client
        for version in self._versions(sha256, markers=True):
            try:
                client.delete_object(
                    Bucket=self.storage.bucket_name, Key=self._key(sha256), VersionId=version
                )
            except Exception as exc:
                # S3 refuses to delete a locked version as it refuses a wrong key: AccessDenied.
                if _error_code(exc) == "AccessDenied" and (lock := self._lock_of(sha256, version)):
                    raise BlobLocked(sha256, lock) from exc
                with s3_availability():
                    raise

    def object_lock_enabled(self) -> bool:
        if self._object_lock is None:
            self._object_lock = _bucket_object_lock(self.storage)
        return self._object_lock

    def lock(self, sha256: str, lock: ObjectLock) -> None:
        if not self.object_lock_enabled():
            return
        client = self.storage.connection.meta.client
        where = {"Bucket": self.storage.bucket_name, "Key": self._key(sha256)}
        with s3_availability():
            if lock.mode and lock.retain_until:
                current = _retention(client, where)
                if current is None or current["RetainUntilDate"] < lock.retain_until:
                    client.put_object_retention(
                        **where,
                        Retention={"Mode": lock.mode, "RetainUntilDate": lock.retain_until},
                    )
            if lock.legal_hold:
                client.put_object_legal_hold(**where, LegalHold={"Status": "ON"})

    def set_legal_hold(self, sha256: str, on: bool) -> None:
        if not self.object_lock_enabled():
            return
        client = self.storage.connection.meta.client
        with s3_availability():
            for version in self._versions(sha256):
                client.put_object_legal_hold(
                    Bucket=self.storage.bucket_name,
                    Key=self._key(sha256),
                    VersionId=version,
                    LegalHold={"Status": "ON" if on else "OFF"},
                )

    def _lock_headers(self, lock: ObjectLock | None) -> dict:
        return lock.headers() if lock is not None and self.object_lock_enabled() else {}

    def _versioned(self) -> bool:
        if self._versioning is None:
            client = self.storage.connection.meta.client
            try:
                with s3_availability():
                    status = client.get_bucket_versioning(Bucket=self.storage.bucket_name)
                self._versioning = status.get("Status") in ("Enabled", "Suspended")
            except StorageUnavailable:
                raise
            except Exception:  # a server without versioning (S3Proxy answers 501)
                self._versioning = False
        return self._versioning

    def _versions(self, sha256: str, *, markers: bool = False) -> list[str]:
        """The ids of every version stored under the content's key (and of its delete markers
        with `markers`)."""
        return self._key_versions(self._key(sha256), markers=markers)

    def _key_versions(self, key: str, *, markers: bool = False) -> list[str]:
        """`_versions` of a key of the bucket."""
        client = self.storage.connection.meta.client
        found = []
        with s3_availability():
            pages = client.get_paginator("list_object_versions").paginate(
                Bucket=self.storage.bucket_name, Prefix=key
            )
            for page in pages:
                entries = page.get("Versions", []) + (
                    page.get("DeleteMarkers", []) if markers else []
                )
                for entry in entries:
                    if entry["Key"] == key:
                        found.append(entry["VersionId"])
        return found

    def _lock_of(self, sha256: str, version: str) -> str | None:
        """What keeps one version: "legal hold", "MODE until DATE", or None."""
        client = self.storage.connection.meta.client
        where = {"Bucket": self.storage.bucket_name, "Key": self._key(sha256), "VersionId": version}
        with s3_availability():
            try:
                hold = client.get_object_legal_hold(**where)["LegalHold"]["Status"]
            except client.exceptions.ClientError:
                hold = "OFF"
            retention = _retention(client, where)
        if hold == "ON":
            return "an object legal hold"
        if retention and retention["RetainUntilDate"] > dt.datetime.now(dt.UTC):
            return f"{retention['Mode']} retention until {retention['RetainUntilDate']:%Y-%m-%d}"
        return None

    def locks(self, sha256: str) -> list[str]:
        """What keeps each stored version of the content (empty: nothing keeps it)."""
        if not self.object_lock_enabled():
            return []
        return [
            lock for version in self._versions(sha256) if (lock := self._lock_of(sha256, version))
        ]

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


def _bucket_object_lock(storage: S3Storage) -> bool:
    """The bucket was made with Object Lock (GetObjectLockConfiguration says Enabled)."""
    client = storage.connection.meta.client
    try:
        with s3_availability():
            answer = client.get_object_lock_configuration(Bucket=storage.bucket_name)
    except StorageUnavailable:
        raise
    except Exception as exc:  # ObjectLockConfigurationNotFoundError; NotImplemented (S3Proxy)
        log.info("bucket %s has no S3 Object Lock: %s", storage.bucket_name, exc)
        return False
    enabled = answer.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"
    log.info("bucket %s has S3 Object Lock: %s", storage.bucket_name, enabled)
    return enabled


# What a server answers for an object without a retention: AWS's code, SeaweedFS's (the
# bucket-level one), and no such object or version.
_NO_RETENTION = frozenset(
    {
        "NoSuchObjectLockConfiguration",
        "ObjectLockConfigurationNotFoundError",
        "NoSuchKey",
        "NoSuchVersion",
    }
)


def _retention(client, where: dict) -> dict | None:
    """The object (version)'s retention {"Mode", "RetainUntilDate"}, or None."""
    try:
        return client.get_object_retention(**where)["Retention"]
    except client.exceptions.ClientError as exc:
        if _error_code(exc) in _NO_RETENTION:
            return None
        raise


def _iter_body(body, chunk_size: int) -> Generator[bytes, None, None]:
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        body.close()
