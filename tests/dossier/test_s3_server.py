"""What a real S3 server does that an emulator did not: signatures and checksums are checked, and
multipart objects are read back in ranges.

Runs only when blob storage is S3; CI's production leg runs it on S3Proxy (infra/s3proxy.sh)
and fails the leg if it is skipped.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import logging
import os

import botocore.exceptions
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from dossier import blobstore
from dossier.models import Blob, Version
from tests.services import blobs_on_s3

pytestmark = [
    pytest.mark.s3,
    pytest.mark.skipif(not blobs_on_s3(), reason="blob storage is not S3 (set EDMS_S3_*)"),
]

DOCUMENTS = "/api/v1/dossiers/BG/P/2024/000123/documents"


def _upload(client, content: bytes, filename: str = "claims.bin"):
    return client.post(
        DOCUMENTS,
        {
            "file": SimpleUploadedFile(filename, content, "application/octet-stream"),
            "type": "CLM",
            "official_date": "2024-03-01",
        },
        format="multipart",
    )


def _key(s3, content: bytes) -> str:
    sha256 = hashlib.sha256(content).hexdigest()
    return s3.key(f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}")


def _absent(s3, key: str) -> bool:
    return s3.client.list_objects_v2(Bucket=s3.bucket, Prefix=key).get("KeyCount", 0) == 0


def _use_wrong_secret(settings) -> None:
    storages = copy.deepcopy(django_settings.STORAGES)
    storages["blobs"]["OPTIONS"]["secret_key"] = "not-the-secret"
    settings.STORAGES = storages  # Django drops its cached storages when STORAGES changes


def test_a_wrong_secret_is_refused_and_nothing_is_stored(
    s3_bucket, registry, dossier, settings, caplog
):
    _use_wrong_secret(settings)
    content = os.urandom(20_000)

    # The storage says why: the server refused the signature (HTTP 403).
    staged = blobstore.spool([content], filename="claims.bin")
    try:
        with pytest.raises(blobstore.StorageUnavailable) as refused:
            blobstore.promote(staged)
    finally:
        staged.discard()
    assert refused.value.reason == "refused our credentials"
    cause = refused.value.__cause__
    assert isinstance(cause, botocore.exceptions.ClientError)
    assert cause.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # An upload through the API is a 503 problem saying so, logged once, and leaves nothing.
    caplog.clear()
    caplog.set_level(logging.ERROR)
    response = _upload(registry, content)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/v1/problems/storage-unavailable"
    assert response.json()["detail"].startswith("blob storage refused our credentials")
    assert len([r for r in caplog.records if r.name == "dossier.blobs_s3"]) == 1
    assert Blob.objects.count() == 0 and Version.objects.count() == 0
    assert _absent(s3_bucket, _key(s3_bucket, content))


def test_a_download_with_a_wrong_secret_is_a_503_and_the_blob_stays_intact(
    s3_bucket, registry, dossier, settings
):
    content = os.urandom(20_000)
    stored = _upload(registry, content)
    assert stored.status_code == 201, stored.content
    _use_wrong_secret(settings)

    response = registry.get(f"/api/v1/documents/{stored.json()['id']}/content")

    assert response.status_code == 503
    assert response.json()["type"] == "/api/v1/problems/storage-unavailable"
    assert response.json()["detail"].startswith("blob storage refused our credentials")
    assert not Blob.objects.get().is_corrupt  # refused is not missing


def test_the_right_secret_is_accepted(s3_bucket, registry, dossier):
    # The counterpart of the test above: the same upload with the configured secret stores.
    content = os.urandom(20_000)
    assert _upload(registry, content).status_code == 201
    assert not _absent(s3_bucket, _key(s3_bucket, content))


def test_a_wrong_sha256_checksum_is_refused_by_the_server(s3_bucket):
    content = os.urandom(10_000)
    key = _key(s3_bucket, content)
    wrong = base64.b64encode(hashlib.sha256(content + b"!").digest()).decode()

    with pytest.raises(botocore.exceptions.ClientError) as refused:
        s3_bucket.client.put_object(
            Bucket=s3_bucket.bucket, Key=key, Body=content, ChecksumSHA256=wrong
        )

    assert refused.value.response["Error"]["Code"] == "BadDigest"
    assert _absent(s3_bucket, key)
    right = base64.b64encode(hashlib.sha256(content).digest()).decode()
    stored = s3_bucket.client.put_object(
        Bucket=s3_bucket.bucket, Key=key, Body=content, ChecksumSHA256=right
    )
    assert stored["ChecksumSHA256"] == right


def test_a_multipart_object_is_read_back_in_ranges_across_its_parts(s3_bucket, registry, dossier):
    # Over the 8 MB multipart threshold (settings' TransferConfig): two parts, the boundary at
    # 8 MiB; ranges are served by the server (a ranged GET), not cut from a whole download.
    content = os.urandom(9 * 1024 * 1024 + 321)
    response = _upload(registry, content)
    assert response.status_code == 201, response.content
    head = s3_bucket.client.head_object(Bucket=s3_bucket.bucket, Key=_key(s3_bucket, content))
    assert head["ETag"].strip('"').endswith("-2"), head["ETag"]
    url = f"/api/v1/documents/{response.json()['id']}/content"
    boundary = 8 * 1024 * 1024

    for start, end in [(boundary - 5, boundary + 5), (0, 0), (len(content) - 1, len(content) - 1)]:
        part = registry.get(url, HTTP_RANGE=f"bytes={start}-{end}")
        assert part.status_code == 206
        assert part["Content-Range"] == f"bytes {start}-{end}/{len(content)}"
        assert b"".join(part.streaming_content) == content[start : end + 1]


def _stored_checksum(s3, key: str) -> tuple[str, str]:
    head = s3.client.head_object(Bucket=s3.bucket, Key=key, ChecksumMode="ENABLED")
    return head.get("ChecksumSHA256", ""), head.get("ChecksumType", "")


def test_edms_sends_the_contents_sha256_with_a_single_put(s3_bucket, registry, dossier):
    # Below the multipart threshold: one PUT carrying the content's own digest, which the
    # server checked and keeps with the object.
    content = os.urandom(20_000)
    assert _upload(registry, content).status_code == 201
    right = base64.b64encode(hashlib.sha256(content).digest()).decode()
    assert _stored_checksum(s3_bucket, _key(s3_bucket, content)) == (right, "FULL_OBJECT")


def test_content_altered_after_it_was_hashed_is_refused_by_the_server_and_nothing_stored(
    s3_bucket,
):
    content = os.urandom(20_000)
    staged = blobstore.spool([content], filename="claims.bin")
    # The spool changes between hashing and upload (a disk fault, another writer): same size,
    # other bytes. The digest sent with it no longer matches, so S3 stores nothing.
    with open(staged.path, "r+b") as spool:
        spool.seek(1000)
        spool.write(bytes([content[1000] ^ 0xFF]))
    try:
        with pytest.raises(blobstore.DigestRefused) as refused:
            blobstore.promote(staged)
    finally:
        staged.discard()
    assert refused.value.sha256 == staged.sha256
    cause = refused.value.__cause__.__context__
    assert cause.response["Error"]["Code"] == "BadDigest"
    assert _absent(s3_bucket, _key(s3_bucket, content))


def test_a_multipart_upload_sends_each_parts_sha256_and_a_wrong_one_is_refused(s3_bucket):
    # Over the 8 MB multipart threshold S3 takes no whole-object SHA-256: each part carries its
    # own, and the object keeps the digest of the parts' digests (COMPOSITE, "-<parts>").
    content = os.urandom(9 * 1024 * 1024 + 321)
    staged = blobstore.spool([content], filename="claims.bin")
    try:
        blobstore.promote(staged)
    finally:
        staged.discard()
    key = _key(s3_bucket, content)
    parts = [content[: 8 * 1024 * 1024], content[8 * 1024 * 1024 :]]
    digests = b"".join(hashlib.sha256(part).digest() for part in parts)
    composite = base64.b64encode(hashlib.sha256(digests).digest()).decode()
    assert _stored_checksum(s3_bucket, key) == (f"{composite}-2", "COMPOSITE")
    assert blobstore.rehash(hashlib.sha256(content).hexdigest()) == (
        hashlib.sha256(content).hexdigest(),
        len(content),
    )

    # A part whose bytes do not match the SHA-256 sent with it is refused by the server.
    client, bucket = s3_bucket.client, s3_bucket.bucket
    upload = client.create_multipart_upload(
        Bucket=bucket, Key=key + ".x", ChecksumAlgorithm="SHA256"
    )
    try:
        wrong = base64.b64encode(hashlib.sha256(parts[0] + b"!").digest()).decode()
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            client.upload_part(
                Bucket=bucket,
                Key=key + ".x",
                UploadId=upload["UploadId"],
                PartNumber=1,
                Body=parts[0],
                ChecksumSHA256=wrong,
            )
        assert refused.value.response["Error"]["Code"] == "BadDigest"
        listed = client.list_parts(Bucket=bucket, Key=key + ".x", UploadId=upload["UploadId"])
        assert listed.get("Parts", []) == []
    finally:
        client.abort_multipart_upload(Bucket=bucket, Key=key + ".x", UploadId=upload["UploadId"])
