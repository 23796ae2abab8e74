"""Blobs on S3, checked from outside: our own boto3 client over HTTP looks into the bucket.

Runs only when blob storage is S3 (CI's production leg: a moto server in its own process).
"""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from dossier.models import Blob, Version
from tests.services import blobs_on_s3

pytestmark = [
    pytest.mark.s3,
    pytest.mark.skipif(not blobs_on_s3(), reason="blob storage is not S3 (set EDMS_S3_*)"),
]

DOCUMENTS = "/api/v1/dossiers/BG/P/2024/000123/documents"


def _register(client, content: bytes, filename: str = "claims.bin") -> dict:
    response = client.post(
        DOCUMENTS,
        {
            "file": SimpleUploadedFile(filename, content, "application/octet-stream"),
            "type": "CLM",
            "official_date": "2024-03-01",
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


def _object_key(s3, sha256: str) -> str:
    """Where edms must have put the content: `sha256/ab/cd/<sha256>` under the bucket prefix."""
    return s3.key(f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}")


def _read_object(s3, sha256: str) -> bytes:
    return s3.client.get_object(Bucket=s3.bucket, Key=_object_key(s3, sha256))["Body"].read()


def _objects_under(s3, sha256: str) -> list[str]:
    listing = s3.client.list_objects_v2(Bucket=s3.bucket, Prefix=_object_key(s3, sha256))
    return [item["Key"] for item in listing.get("Contents", [])]


def _fixity(*sha256s: str) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    args = [item for sha in sha256s for item in ("--sha256", sha)]
    try:
        call_command("fixity", *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_content_lands_in_the_bucket_under_its_digest(s3_bucket, registry, dossier):
    content = os.urandom(200_000)
    registered = _register(registry, content)
    sha256 = registered["sha256"]
    assert registered["size"] == len(content)

    assert _objects_under(s3_bucket, sha256) == [_object_key(s3_bucket, sha256)]
    assert _read_object(s3_bucket, sha256) == content


def test_content_larger_than_a_multipart_chunk_arrives_whole(s3_bucket, registry, dossier):
    # Over the 8 MB multipart threshold of settings' TransferConfig: uploaded in parts.
    content = os.urandom(9 * 1024 * 1024 + 123)
    sha256 = _register(registry, content)["sha256"]
    head = s3_bucket.client.head_object(Bucket=s3_bucket.bucket, Key=_object_key(s3_bucket, sha256))
    assert head["ContentLength"] == len(content)
    assert "-" in head["ETag"], "expected a multipart upload (its ETag has a part count)"
    assert _read_object(s3_bucket, sha256) == content


def test_identical_content_is_stored_once(s3_bucket, registry, dossier):
    content = os.urandom(50_000)
    first = _register(registry, content, "original.bin")
    key = _object_key(s3_bucket, first["sha256"])
    # Mark the stored object (same bytes, plus metadata): an upload of the second copy would
    # replace it and lose the mark.
    s3_bucket.client.put_object(
        Bucket=s3_bucket.bucket, Key=key, Body=content, Metadata={"probe": "first-copy"}
    )

    second = _register(registry, content, "copy.bin")

    assert second["sha256"] == first["sha256"]
    assert second["id"] != first["id"]
    assert Blob.objects.filter(sha256=first["sha256"]).count() == 1
    assert Version.objects.filter(blob_id=first["sha256"]).count() == 2
    assert _objects_under(s3_bucket, first["sha256"]) == [key]
    head = s3_bucket.client.head_object(Bucket=s3_bucket.bucket, Key=key)
    assert head["Metadata"] == {"probe": "first-copy"}


def test_range_downloads_come_from_the_bucket(s3_bucket, registry, dossier):
    content = os.urandom(3 * 1024 * 1024 + 17)
    document_id = _register(registry, content)["id"]
    url = f"/api/v1/documents/{document_id}/content"

    middle = registry.get(url, HTTP_RANGE="bytes=1048570-1048600")
    assert middle.status_code == 206
    assert middle["Content-Range"] == f"bytes 1048570-1048600/{len(content)}"
    assert b"".join(middle.streaming_content) == content[1048570:1048601]

    tail = registry.get(url, HTTP_RANGE="bytes=-10")
    assert tail.status_code == 206
    assert b"".join(tail.streaming_content) == content[-10:]

    whole = registry.get(url)
    assert whole.status_code == 200
    assert int(whole["Content-Length"]) == len(content)
    assert b"".join(whole.streaming_content) == content


def test_fixity_reports_missing_and_tampered_objects(s3_bucket, registry, dossier):
    intact = _register(registry, os.urandom(10_000), "intact.bin")["sha256"]
    deleted = _register(registry, os.urandom(10_000), "deleted.bin")["sha256"]
    tampered = _register(registry, os.urandom(10_000), "tampered.bin")["sha256"]

    report, error = _fixity(intact, deleted, tampered)
    assert error is None, report
    assert "3 blob(s) checked, 3 ok, 0 bad" in report

    # Behind edms's back: one object deleted, one overwritten with other bytes.
    s3_bucket.client.delete_object(Bucket=s3_bucket.bucket, Key=_object_key(s3_bucket, deleted))
    s3_bucket.client.put_object(
        Bucket=s3_bucket.bucket, Key=_object_key(s3_bucket, tampered), Body=os.urandom(10_000)
    )

    report, error = _fixity(intact, deleted, tampered)
    assert error is not None, report
    assert f"MISSING {deleted}" in report
    assert f"MISMATCH {tampered}" in report
    assert intact not in report
    assert "3 blob(s) checked, 1 ok, 2 bad" in report
    assert Blob.objects.get(pk=intact).verified_at is not None
