"""The blob backend contract, run against every backend: the filesystem always, S3 when blob
storage is S3 (CI's production leg: S3Proxy, a real S3 server).

Each S3 run works under a prefix of its own inside the configured bucket and removes what it
stored. What a killed process leaves is checked with real kills in
tests/system/test_crash_safety.py.
"""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage
from storages.backends.s3 import S3Storage

from dossier import blobstore
from dossier.blob_interface import STAGING_DIR, BlobBackend, BlobMissing
from dossier.blobbackends import blob_backend
from dossier.blobs_filesystem import FilesystemBlobs
from dossier.blobs_s3 import S3Blobs
from dossier.blobstore import Promotion
from tests.services import blobs_on_s3

MULTIPART = 9 * 1024 * 1024 + 321  # over the 8 MB part size of settings' TransferConfig


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.fixture(params=["filesystem", "s3"])
def backend(request, tmp_path):
    if request.param == "filesystem":
        yield FilesystemBlobs(FileSystemStorage(location=str(tmp_path / "blobs")))
        return
    if not blobs_on_s3():
        pytest.skip("blob storage is not S3 (set EDMS_S3_BUCKET and EDMS_S3_ENDPOINT_URL)")
    options = dict(django_settings.STORAGES["blobs"]["OPTIONS"])
    prefix = (options.get("location") or "").strip("/")
    options["location"] = f"{prefix}/contract-{uuid.uuid4().hex}".strip("/")
    s3 = S3Blobs(S3Storage(**options))
    try:
        yield s3
    finally:
        for sha256 in list(s3.iter_digests()):
            s3.delete(sha256)


@pytest.fixture
def stored(backend, tmp_path):
    """Store bytes in `backend` from a local file, as promotion does; returns their digest."""

    def store(content: bytes) -> str:
        path = tmp_path / f"spool-{uuid.uuid4().hex}"
        path.write_bytes(content)
        backend.put(digest(content), str(path))
        return digest(content)

    return store


def test_put_content_is_there_under_its_digest(backend: BlobBackend, stored):
    content = os.urandom(100_000)
    sha256 = stored(content)
    assert backend.exists(sha256)
    assert b"".join(backend.read_range(sha256)) == content
    with backend.open(sha256) as handle:
        assert handle.read() == content


def test_empty_content_reads_back_empty(backend: BlobBackend, stored):
    # An extracted text with no words is an empty blob; S3 refuses the range `bytes=0-` of it.
    sha256 = stored(b"")
    assert backend.exists(sha256)
    assert b"".join(backend.read_range(sha256)) == b""


def test_the_spool_is_left_to_its_owner(backend: BlobBackend, tmp_path):
    spool = tmp_path / "spool"
    spool.write_bytes(b"claims")
    backend.put(digest(b"claims"), str(spool))
    assert spool.read_bytes() == b"claims"


def test_ranges_are_inclusive_like_http(backend: BlobBackend, stored):
    content = bytes(range(256)) * 40
    sha256 = stored(content)
    for start, end in [(0, 0), (10, 19), (255, 1000), (len(content) - 1, len(content) - 1)]:
        assert b"".join(backend.read_range(sha256, start, end)) == content[start : end + 1]
    assert b"".join(backend.read_range(sha256, 5000)) == content[5000:]


def test_reads_stream_in_chunks(backend: BlobBackend, stored):
    content = os.urandom(300_000)
    sha256 = stored(content)
    chunks = list(backend.read_range(sha256, chunk_size=64 * 1024))
    assert len(chunks) > 1
    assert max(len(chunk) for chunk in chunks) <= 64 * 1024
    assert b"".join(chunks) == content


def test_content_larger_than_a_part_is_read_back_across_parts(backend: BlobBackend, stored):
    content = os.urandom(MULTIPART)
    sha256 = stored(content)
    boundary = 8 * 1024 * 1024
    assert (
        b"".join(backend.read_range(sha256, boundary - 5, boundary + 5))
        == content[boundary - 5 : boundary + 6]
    )
    assert hashlib.sha256(b"".join(backend.read_range(sha256))).hexdigest() == sha256


def test_missing_content_is_refused_before_the_first_byte(backend: BlobBackend):
    sha256 = digest(b"never stored")
    assert not backend.exists(sha256)
    with pytest.raises(BlobMissing):
        backend.read_range(sha256)  # raised on the call, not on the first iteration
    with pytest.raises(BlobMissing):
        backend.read_range(sha256, 3, 7)
    with pytest.raises(BlobMissing):
        backend.open(sha256)


def _corrupt(backend: BlobBackend, sha256: str, content: bytes, tmp_path) -> None:
    """Put `content` under `sha256`, which it does not hash to, as a failing disk would leave
    it. S3 is written behind the backend's back: the backend's own PUT carries the digest, and
    the server refuses bytes that do not match it (tests/dossier/test_s3_server.py)."""
    if isinstance(backend, S3Blobs):
        backend.storage.bucket.Object(backend.bucket_key(blobstore.storage_key(sha256))).put(
            Body=content
        )
        return
    altered = tmp_path / "altered"
    altered.write_bytes(content)
    backend.put(sha256, str(altered))


def test_put_replaces_what_is_under_the_key_whole(backend: BlobBackend, stored, tmp_path):
    # How a corrupt copy is repaired: the verified bytes are put over it.
    good = os.urandom(50_000)
    sha256 = stored(good)
    _corrupt(backend, sha256, b"x" + good[1:] + b"tail", tmp_path)
    assert b"".join(backend.read_range(sha256)) == b"x" + good[1:] + b"tail"
    spool = tmp_path / "good"
    spool.write_bytes(good)
    backend.put(sha256, str(spool))
    assert b"".join(backend.read_range(sha256)) == good


def test_delete_removes_and_is_quiet_about_missing_content(backend: BlobBackend, stored):
    sha256 = stored(b"to be removed")
    backend.delete(sha256)
    assert not backend.exists(sha256)
    backend.delete(sha256)
    with pytest.raises(BlobMissing):
        backend.read_range(sha256)


def test_iter_digests_lists_every_stored_blob(backend: BlobBackend, stored):
    assert list(backend.iter_digests()) == []
    stored_digests = {stored(os.urandom(1000)) for _ in range(3)}
    assert set(backend.iter_digests()) == stored_digests


def test_local_path_exists_only_on_a_filesystem(backend: BlobBackend, stored):
    content = b"read me without a copy"
    sha256 = stored(content)
    path = backend.local_path(sha256)
    if isinstance(backend, S3Blobs):
        assert path is None
        assert backend.staging_dir is None
        return
    with open(path, "rb") as handle:
        assert handle.read() == content
    assert not os.access(path, os.W_OK) or os.geteuid() == 0  # stored content is read-only
    assert backend.staging_dir is not None
    assert backend.staging_dir.name == STAGING_DIR
    assert list(backend.staging_dir.iterdir()) == []  # nothing half-written left behind


def _stage(backend: BlobBackend, key: str, content: bytes) -> None:
    """Put `content` under a staging key of the store as a client would (an upload session's
    parts PUT straight to the bucket, or to the spool): not through the backend."""
    if isinstance(backend, S3Blobs):
        backend.storage.connection.meta.client.put_object(
            Bucket=backend.storage.bucket_name, Key=backend.bucket_key(key), Body=content
        )
    else:
        path = backend.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def test_staged_content_is_adopted_under_its_digest_and_the_staged_copy_left_to_its_owner(
    backend: BlobBackend,
):
    content = os.urandom(MULTIPART)
    sha256 = digest(content)
    key = f"uploads/{uuid.uuid4().hex}"
    _stage(backend, key, content)
    assert not backend.exists(sha256)

    backend.adopt(sha256, key)
    assert backend.exists(sha256)
    assert b"".join(backend.read_range(sha256)) == content
    assert list(backend.iter_digests()) == [sha256]  # the staged copy is no content

    backend.delete_staged(key)
    backend.delete_staged(key)  # already gone: quiet
    assert b"".join(backend.read_range(sha256)) == content


# --- The configured backend, as the blob store uses it -----------------------------------------


def test_the_configured_storage_chooses_the_backend():
    expected = S3Blobs if blobs_on_s3() else FilesystemBlobs
    assert isinstance(blob_backend(), expected)
    assert blob_backend() is blob_backend()  # chosen once


def test_a_storage_that_is_no_blob_backend_is_refused(settings):
    settings.STORAGES = {
        **django_settings.STORAGES,
        "blobs": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    with pytest.raises(ImproperlyConfigured, match="InMemoryStorage"):
        blob_backend()


def test_promotion_stores_then_deduplicates_and_never_overwrites_an_intact_copy():
    content = os.urandom(40_000)
    sha256 = digest(content)
    first = blobstore.spool([content], filename="a.bin")
    second = blobstore.spool([content], filename="b.bin")
    try:
        assert blobstore.promote(first) is Promotion.STORED
        assert blobstore.promote(second) is Promotion.PRESENT
        assert blobstore.exists(sha256)
        assert b"".join(blobstore.read_chunks(sha256)) == content
    finally:
        first.discard()
        second.discard()
        blob_backend().delete(sha256)
