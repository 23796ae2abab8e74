"""S3 Object Lock against a real server that implements it: SeaweedFS (infra/seaweedfs.sh), with
nothing emulated. Skipped unless EDMS_TEST_OBJECT_LOCK_ENDPOINT names its S3 endpoint (CI sets it;
keys in EDMS_TEST_OBJECT_LOCK_ACCESS_KEY / _SECRET_KEY, default edms / edms-secret).

One bucket made with Object Lock and one without, made once; each test files its documents
under a prefix of its own and removes what it stored (bypassing the GOVERNANCE retention it
wrote, which the server allows only when asked to)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.storage import storages

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.blob_interface import ObjectLock, storage_key
from dossier.blobbackends import blob_backend
from dossier.models import Version
from dossier.object_lock import permanent_until
from tests.conftest import create_dossier, file_document

ENDPOINT = os.environ.get("EDMS_TEST_OBJECT_LOCK_ENDPOINT", "")
ACCESS_KEY = os.environ.get("EDMS_TEST_OBJECT_LOCK_ACCESS_KEY", "edms")
SECRET_KEY = os.environ.get("EDMS_TEST_OBJECT_LOCK_SECRET_KEY", "edms-secret")
RUN = uuid.uuid4().hex[:8]
LOCKED_BUCKET = f"edms-locked-{RUN}"
PLAIN_BUCKET = f"edms-plain-{RUN}"
COURT = {"reason": "infringement action pending", "reference": "District Court 4 O 12/2025"}
RECORDS = Actor(label="records manager")

pytestmark = pytest.mark.skipif(
    not ENDPOINT, reason="no S3 server with Object Lock (set EDMS_TEST_OBJECT_LOCK_ENDPOINT)"
)


@pytest.fixture(scope="module")
def client():
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    client.create_bucket(Bucket=LOCKED_BUCKET, ObjectLockEnabledForBucket=True)
    client.create_bucket(Bucket=PLAIN_BUCKET)
    return client


@dataclass
class Bucket:
    client: Any
    name: str
    prefix: str

    def key(self, sha256: str) -> str:
        return f"{self.prefix}/{storage_key(sha256)}"

    def versions(self, sha256: str) -> list[str]:
        answer = self.client.list_object_versions(Bucket=self.name, Prefix=self.key(sha256))
        return [v["VersionId"] for v in answer.get("Versions", [])]

    def retention(self, sha256: str) -> dict | None:
        try:
            return self.client.get_object_retention(Bucket=self.name, Key=self.key(sha256))[
                "Retention"
            ]
        except self.client.exceptions.ClientError:
            return None

    def legal_hold(self, sha256: str) -> str:
        try:
            answer = self.client.get_object_legal_hold(Bucket=self.name, Key=self.key(sha256))
        except self.client.exceptions.ClientError:
            return "none"
        return answer["LegalHold"]["Status"]

    def empty(self) -> None:
        """Remove every version under the prefix: legal holds off, GOVERNANCE bypassed."""
        answer = self.client.list_object_versions(Bucket=self.name, Prefix=self.prefix + "/")
        for entry in [*answer.get("Versions", []), *answer.get("DeleteMarkers", [])]:
            where = {"Bucket": self.name, "Key": entry["Key"], "VersionId": entry["VersionId"]}
            if "Size" in entry and self.name == LOCKED_BUCKET:
                self.client.put_object_legal_hold(**where, LegalHold={"Status": "OFF"})
            self.client.delete_object(**where, BypassGovernanceRetention=True)


def _use_bucket(settings, client, name: str) -> Bucket:
    from boto3.s3.transfer import TransferConfig

    prefix = f"t-{uuid.uuid4().hex}"
    settings.EDMS_S3_OBJECT_LOCK_PERMANENT_YEARS = 3
    settings.STORAGES = {
        **settings.STORAGES,
        "blobs": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": ENDPOINT,
                "region_name": "us-east-1",
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "location": prefix,
                "file_overwrite": True,
                "default_acl": None,
                "signature_version": "s3v4",
                "transfer_config": TransferConfig(multipart_threshold=8 * 1024**2),
            },
        },
    }
    assert storages["blobs"].bucket_name == name
    return Bucket(client, name, prefix)


@pytest.fixture
def locked(db, settings, client):
    bucket = _use_bucket(settings, client, LOCKED_BUCKET)
    yield bucket
    bucket.empty()


@pytest.fixture
def plain(db, settings, client):
    bucket = _use_bucket(settings, client, PLAIN_BUCKET)
    yield bucket
    bucket.empty()


def content_of(document) -> str:
    return Version.objects.filter(document=document).latest("number").blob_id


def test_the_bucket_is_detected_as_locked_or_not(locked, settings, client):
    assert blob_backend().object_lock_enabled()
    _use_bucket(settings, client, PLAIN_BUCKET)
    assert not blob_backend().object_lock_enabled()


def test_a_permanent_documents_content_is_written_with_a_retention(locked):
    dossier = create_dossier()
    grant = file_document(dossier, type_code="GRANT", filename="grant.txt")  # permanent (seeded)
    claims = file_document(dossier, type_code="CLM")  # five years after lapse: not locked

    retention = locked.retention(content_of(grant))
    assert retention["Mode"] == "GOVERNANCE"
    until = retention["RetainUntilDate"]
    assert until.year == dt.datetime.now(dt.UTC).year + 3
    assert until > dt.datetime.now(dt.UTC) + dt.timedelta(days=3 * 365 - 2)
    assert locked.legal_hold(content_of(grant)) != "ON"
    assert locked.retention(content_of(claims)) is None


def test_the_server_refuses_to_delete_a_retained_version_and_expunge_says_why(locked):
    dossier = create_dossier()
    grant = file_document(dossier, b"the grant, kept for good", type_code="GRANT")
    sha256 = content_of(grant)
    (version,) = locked.versions(sha256)

    with pytest.raises(locked.client.exceptions.ClientError) as refused:
        locked.client.delete_object(Bucket=locked.name, Key=locked.key(sha256), VersionId=version)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"

    with pytest.raises(actions.ContentLocked) as kept:
        actions.expunge_document(grant, reason="court order", reference="C-1/26", actor=RECORDS)
    assert sha256 in str(kept.value)
    assert "GOVERNANCE retention until" in str(kept.value)
    # Nothing changed: the version is no tombstone, the content is there and reads back.
    assert not Version.objects.filter(document=grant, expunged_at__isnull=False).exists()
    assert b"".join(blobstore.read_chunks(sha256)) == b"the grant, kept for good"


def test_filing_permanent_content_again_extends_its_retention(locked, settings):
    dossier = create_dossier()
    first = file_document(dossier, b"same grant", type_code="GRANT")
    before = locked.retention(content_of(first))["RetainUntilDate"]
    settings.EDMS_S3_OBJECT_LOCK_PERMANENT_YEARS = 4
    second = file_document(create_dossier("BG/P/2024/000124"), b"same grant", type_code="GRANT")
    assert content_of(second) == content_of(first)
    after = locked.retention(content_of(first))["RetainUntilDate"]
    assert after.year == before.year + 1


def test_a_hold_sets_the_object_legal_hold_and_its_release_clears_it(
    locked, django_capture_on_commit_callbacks
):
    dossier = create_dossier()
    claims = file_document(dossier, b"claims under a court case", type_code="CLM")
    sha256 = content_of(claims)
    assert locked.legal_hold(sha256) != "ON"

    hold = actions.place_legal_hold(dossier, actor=RECORDS, **COURT)
    assert locked.legal_hold(sha256) == "ON"
    (version,) = locked.versions(sha256)
    with pytest.raises(locked.client.exceptions.ClientError):
        locked.client.delete_object(Bucket=locked.name, Key=locked.key(sha256), VersionId=version)

    with django_capture_on_commit_callbacks(execute=True):
        actions.release_legal_hold(hold, reason="case settled", actor=RECORDS)
    assert locked.legal_hold(sha256) == "OFF"

    # Nothing keeps it now: expunge removes every version from the bucket, not only hides it.
    actions.expunge_document(claims, reason="erasure", reference="DPA-7", actor=RECORDS)
    assert locked.versions(sha256) == []
    assert not blobstore.exists(sha256)


def test_new_content_of_a_held_document_is_written_with_an_object_legal_hold(locked):
    dossier = create_dossier()
    claims = file_document(dossier, type_code="CLM")
    actions.place_legal_hold(dossier, actor=RECORDS, document=claims, **COURT)
    staged = blobstore.spool([b"amended claims, filed while held"], filename="claims-2.txt")
    version = actions.add_version(claims, staged, actor=RECORDS)
    assert version.number == 2
    assert locked.legal_hold(version.blob_id) == "ON"
    assert locked.retention(version.blob_id) is None  # held, not permanent


def test_shared_content_stays_held_while_another_hold_covers_it(
    locked, django_capture_on_commit_callbacks
):
    shared = b"one priority document filed in two cases"
    first = create_dossier("BG/P/2024/000200")
    second = create_dossier("BG/P/2024/000201")
    file_document(first, shared, type_code="CLM")
    other = file_document(second, shared, type_code="CLM")
    sha256 = content_of(other)
    hold_one = actions.place_legal_hold(first, actor=RECORDS, **COURT)
    hold_two = actions.place_legal_hold(second, actor=RECORDS, document=other, **COURT)

    with django_capture_on_commit_callbacks(execute=True):
        actions.release_legal_hold(hold_one, reason="settled", actor=RECORDS)
    assert locked.legal_hold(sha256) == "ON"  # the second hold still covers the same object
    with django_capture_on_commit_callbacks(execute=True):
        actions.release_legal_hold(hold_two, reason="settled", actor=RECORDS)
    assert locked.legal_hold(sha256) == "OFF"


def test_a_bucket_without_object_lock_gets_plain_writes(plain):
    dossier = create_dossier()
    grant = file_document(dossier, b"a grant in a plain bucket", type_code="GRANT")
    sha256 = content_of(grant)
    answer = plain.client.head_object(Bucket=plain.name, Key=plain.key(sha256))
    assert "ObjectLockMode" not in answer and "ObjectLockLegalHoldStatus" not in answer
    hold = actions.place_legal_hold(dossier, actor=RECORDS, **COURT)  # nothing to set in S3
    actions.release_legal_hold(hold, reason="done", actor=RECORDS)
    actions.expunge_document(grant, reason="erasure", reference="DPA-8", actor=RECORDS)
    assert not blobstore.exists(sha256)


def test_object_lock_off_writes_plainly_even_to_a_locked_bucket(settings, client, db):
    settings.EDMS_S3_OBJECT_LOCK = "off"
    bucket = _use_bucket(settings, client, LOCKED_BUCKET)
    try:
        assert not blob_backend().object_lock_enabled()
        grant = file_document(create_dossier(), type_code="GRANT")
        assert bucket.retention(content_of(grant)) is None
    finally:
        bucket.empty()


def test_the_api_refuses_to_expunge_locked_content_naming_the_lock(locked, admin_client):
    grant = file_document(create_dossier(), b"a grant the bucket keeps", type_code="GRANT")
    response = admin_client.post(
        f"/api/v1/documents/{grant.id}/expunge",
        {"reason": "court order", "reference": "C-2/26"},
        format="json",
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"].endswith("legal-hold")
    assert "S3 Object Lock" in problem["detail"]
    assert content_of(grant) in problem["detail"]
    assert blobstore.exists(content_of(grant))


def test_large_and_adopted_content_is_written_locked_too(locked):
    """A multipart upload (over the 8 MB threshold) and a server-side copy of an upload sent
    straight to the bucket (`adopt`) carry the lock like a single PUT."""
    backend = blob_backend()
    lock = ObjectLock(mode="GOVERNANCE", retain_until=permanent_until(), legal_hold=True)
    large = os.urandom(9 * 1024 * 1024 + 7)
    staged = blobstore.spool([large], filename="large.bin")
    blobstore.promote(staged, lock)
    staged.discard()
    sha256 = hashlib.sha256(large).hexdigest()
    assert locked.retention(sha256)["Mode"] == "GOVERNANCE"
    assert locked.legal_hold(sha256) == "ON"

    small = b"sent straight to the bucket, then adopted"
    staged_key = f"uploads/{uuid.uuid4().hex}"
    locked.client.put_object(Bucket=locked.name, Key=f"{locked.prefix}/{staged_key}", Body=small)
    adopted = hashlib.sha256(small).hexdigest()
    backend.adopt(adopted, staged_key, lock)
    backend.delete_staged(staged_key)
    # Gone, not hidden behind a delete marker: the upload's bytes leave the versioned bucket.
    left = locked.client.list_object_versions(
        Bucket=locked.name, Prefix=f"{locked.prefix}/{staged_key}"
    )
    assert left.get("Versions", []) == [] and left.get("DeleteMarkers", []) == []
    assert locked.retention(adopted)["Mode"] == "GOVERNANCE"
    assert locked.legal_hold(adopted) == "ON"
    assert b"".join(blobstore.read_chunks(adopted)) == small
