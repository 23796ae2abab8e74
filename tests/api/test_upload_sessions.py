"""Upload sessions (`/api/v1/upload-sessions`): a file in parts, each PUT to the URL the session
names, then committed. The same client code drives both blob stores: on the filesystem the
parts go to edms's own signed part URLs; on S3 (leg 2: S3Proxy) to pre-signed URLs of the
bucket, PUT with plain `requests` straight to S3 — the server never receives the bytes.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import io
import os
import socket
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import PartUploadSession
from dossier.models import AuditEvent, Blob, Document, Version
from tests.conftest import create_dossier, file_document
from tests.services import blobs_on_s3, wait_until

KEY = "BG/P/2024/000123"
SESSIONS = "/api/v1/upload-sessions"
MIB = 1024 * 1024
PART = 5 * MIB  # S3's smallest part: the least a test can send in several parts
on_s3 = pytest.mark.skipif(not blobs_on_s3(), reason="blob storage is not S3 (set EDMS_S3_*)")
on_filesystem = pytest.mark.skipif(blobs_on_s3(), reason="blob storage is S3")


@pytest.fixture(autouse=True)
def resumable_dir(settings, tmp_path):
    settings.EDMS_RESUMABLE_DIR = str(tmp_path / "resumable")


@pytest.fixture(autouse=True)
def no_uploads_left_in_the_bucket():
    """A test that leaves a session open leaves its multipart upload in the bucket when its
    rows are rolled back: aborted here, as the sweep would."""
    yield
    if blobs_on_s3():
        client, bucket, prefix = _s3()
        listing = client.list_multipart_uploads(Bucket=bucket, Prefix=f"{prefix}uploads/")
        for upload in listing.get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def declare(client, content: bytes, *, digest: str | None = None, **target) -> dict:
    target = target or {"dossier": KEY, "type": "CLM"}
    response = client.post(
        SESSIONS,
        {
            "size": len(content),
            "sha256": digest or sha256(content),
            "filename": "sequence.bin",
            "media_type": "application/octet-stream",
            "part_size": PART,
            **target,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def put_part(session: dict, number: int, body: bytes) -> int:
    """PUT a part where the session says, with no credentials: to S3 with `requests` (the
    bytes never reach edms), to edms's own part URL with a client of no key."""
    url = session["parts"][number - 1]["url"]
    if session["store"] == "s3":
        assert urlsplit(url).netloc == urlsplit(_s3_endpoint()).netloc
        # With a Content-Type, as most clients send one: the URL must not have signed it.
        headers = {"Content-Type": "application/octet-stream"}
        return requests.put(url, data=body, headers=headers, timeout=60).status_code
    target = urlsplit(url)
    response = APIClient().generic(
        "PUT", f"{target.path}?{target.query}", body, content_type="application/octet-stream"
    )
    return response.status_code


def put_parts(session: dict, content: bytes, numbers=None) -> None:
    for part in session["parts"]:
        if numbers is None or part["number"] in numbers:
            body = content[part["offset"] : part["offset"] + part["size"]]
            assert put_part(session, part["number"], body) in (200, 204)


def _s3_endpoint() -> str:
    return settings.STORAGES["blobs"]["OPTIONS"]["endpoint_url"]


def status_of(client, session: dict) -> dict:
    response = client.get(f"{SESSIONS}/{session['id']}")
    assert response.status_code == 200, response.content
    return response.json()


def commit(client, session: dict):
    return client.post(f"{SESSIONS}/{session['id']}/commit")


def spools() -> list[str]:
    folder = settings.EDMS_RESUMABLE_DIR
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


# --- Both stores ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_file_in_parts_becomes_a_document_once_committed(registry):
    create_dossier(KEY)
    content = os.urandom(2 * PART + 12_345)
    session = declare(registry, content)
    assert session["state"] == "open"
    assert (session["part_size"], session["part_count"]) == (PART, 3)
    assert [(p["offset"], p["size"]) for p in session["parts"]] == [
        (0, PART),
        (PART, PART),
        (2 * PART, 12_345),
    ]
    assert session["missing_parts"] == [1, 2, 3]

    put_parts(session, content)
    assert status_of(registry, session)["missing_parts"] == []
    response = commit(registry, session)

    assert response.status_code == 200, response.content
    answer = response.json()
    version = Version.objects.select_related("blob", "document").get()
    assert (answer["state"], answer["document"], answer["version"]) == (
        "filed",
        str(version.document_id),
        1,
    )
    assert response["Content-Location"] == f"/api/v1/documents/{version.document_id}"
    assert version.blob.sha256 == sha256(content)
    assert version.blob.size == len(content)
    assert version.filename == "sequence.bin"
    assert AuditEvent.objects.filter(action="document.attach", object_id=version.document_id)
    # The content is served back whole, from wherever the store keeps it.
    download = registry.get(f"/api/v1/documents/{version.document_id}/content")
    assert b"".join(download.streaming_content) == content
    assert spools() == []


@pytest.mark.django_db
def test_a_committed_session_answers_the_same_again_and_files_once(registry):
    create_dossier(KEY)
    content = os.urandom(1000)
    session = declare(registry, content)
    put_parts(session, content)
    first = commit(registry, session)
    again = commit(registry, session)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["document"] == first.json()["document"]
    assert Version.objects.count() == 1
    # Committed: no part URLs any more, and a part PUT is refused.
    assert all("url" not in part for part in status_of(registry, session)["parts"])


@pytest.mark.django_db
def test_a_missing_part_is_named_and_the_upload_resumes_with_it(registry):
    create_dossier(KEY)
    content = os.urandom(PART + 777)
    session = declare(registry, content)
    put_parts(session, content, numbers={2})  # ...and the line drops before part 1

    status = status_of(registry, session)
    assert status["missing_parts"] == [1]
    refused = commit(registry, session)
    assert refused.status_code == 409
    assert refused.json()["type"] == "/api/v1/problems/upload-incomplete"
    assert refused.json()["missing_parts"] == [1]
    assert not Version.objects.exists()

    # A client that has only the session id asks which parts are missing, and sends them to
    # the URLs issued afresh.
    put_parts(status, content, numbers=set(status["missing_parts"]))
    assert commit(registry, session).status_code == 200
    assert Version.objects.get().blob.sha256 == sha256(content)


@pytest.mark.django_db
def test_content_that_is_not_the_declared_sha256_is_refused_and_nothing_is_stored(registry):
    create_dossier(KEY)
    content = os.urandom(PART + 10)
    session = declare(registry, content, digest=sha256(b"something else"))
    put_parts(session, content)

    response = commit(registry, session)
    assert response.status_code == 422
    assert response.json()["type"] == "/api/v1/problems/digest-mismatch"
    assert not Version.objects.exists()
    assert not Blob.objects.filter(sha256=sha256(content)).exists()
    assert not _stored(sha256(content))
    # The refusal is the outcome: asked again, the same answer; the session says so.
    assert commit(registry, session).status_code == 422
    status = status_of(registry, session)
    assert status["state"] == "refused"
    assert status["problem"]["type"] == "/api/v1/problems/digest-mismatch"
    assert spools() == []


@pytest.mark.django_db
def test_a_new_version_of_a_document(registry, dossier):
    document = file_document(dossier, b"1. A widget.")
    content = os.urandom(3000)
    session = declare(registry, content, document=str(document.id))
    put_parts(session, content)
    assert commit(registry, session).json()["version"] == 2
    assert Version.objects.get(document=document, number=2).blob.sha256 == sha256(content)


@pytest.mark.django_db
def test_an_aborted_session_is_gone_with_its_parts(registry):
    create_dossier(KEY)
    content = os.urandom(PART + 1)
    session = declare(registry, content)
    put_parts(session, content, numbers={1})
    assert registry.delete(f"{SESSIONS}/{session['id']}").status_code == 204
    assert registry.get(f"{SESSIONS}/{session['id']}").status_code == 404
    assert not PartUploadSession.objects.exists()
    assert spools() == []


@pytest.mark.django_db
def test_expired_sessions_are_aborted_by_the_sweep(registry):
    create_dossier(KEY)
    content = os.urandom(PART + 1)
    open_session = declare(registry, content)
    put_parts(open_session, content, numbers={1})
    filed = declare(registry, b"filed")
    put_parts(filed, b"filed")
    assert commit(registry, filed).status_code == 200

    call_command("sweep", stdout=io.StringIO())
    assert PartUploadSession.objects.count() == 2  # not expired yet
    PartUploadSession.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    out = io.StringIO()
    call_command("sweep", stdout=out)

    assert "2 expired upload sessions removed" in out.getvalue()
    assert not PartUploadSession.objects.exists()
    assert spools() == []
    assert not any(open_session["id"] in key for key in _open_multipart_uploads())
    assert Version.objects.count() == 1  # the filed document stays, of course


# --- Bad input: problem documents, nothing changed --------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status", "slug", "field"),
    [
        ({"sha256": "abc"}, 400, "validation-error", "sha256"),
        ({"sha256": None}, 400, "validation-error", "sha256"),
        ({"size": 0}, 400, "empty-file", "file"),
        ({"size": 5 * 1024**4}, 413, "file-too-large", "file"),
        ({"part_size": 1024}, 400, "validation-error", "part_size"),
        ({"dossier": None}, 400, "validation-error", "Upload-Metadata"),
        ({"dossier": "BG/P/2024/999999"}, 404, "unknown-dossier", None),
        ({"type": "NOPE"}, 400, "unknown-document-type", "type"),
    ],
)
def test_a_bad_declaration_is_refused_before_any_byte(registry, body, status, slug, field):
    create_dossier(KEY)
    declaration = {"size": 10, "sha256": "0" * 64, "dossier": KEY, "type": "CLM", **body}
    declaration = {name: value for name, value in declaration.items() if value is not None}
    response = registry.post(SESSIONS, declaration, format="json")
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == f"/api/v1/problems/{slug}"
    assert response.json().get("field") == field
    assert not PartUploadSession.objects.exists()


@pytest.mark.django_db
def test_too_many_parts_for_the_part_size_are_refused(registry, settings):
    create_dossier(KEY)
    settings.EDMS_MAX_UPLOAD_SIZE = 10**12
    response = registry.post(
        SESSIONS,
        {
            "size": 10_001 * PART,
            "sha256": "0" * 64,
            "dossier": KEY,
            "type": "CLM",
            "part_size": PART,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "part_size"


@pytest.mark.django_db
def test_the_public_may_not_open_a_session(public):
    create_dossier(KEY)
    response = public.post(
        SESSIONS, {"size": 10, "sha256": "0" * 64, "dossier": KEY, "type": "CLM"}, format="json"
    )
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_a_session_is_its_creators_alone(registry, examiner):
    create_dossier(KEY)
    session = declare(registry, b"mine")
    for response in (
        examiner.get(f"{SESSIONS}/{session['id']}"),
        examiner.post(f"{SESSIONS}/{session['id']}/commit"),
        examiner.delete(f"{SESSIONS}/{session['id']}"),
    ):
        assert response.status_code == 404
        assert response.json()["type"] == "/api/v1/problems/unknown-upload"
    assert registry.get(f"{SESSIONS}/00000000-0000-4000-8000-000000000000").status_code == 404


@pytest.mark.django_db
def test_an_expired_session_is_gone(registry):
    create_dossier(KEY)
    session = declare(registry, b"late")
    PartUploadSession.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = commit(registry, session)
    assert response.status_code == 410
    assert response.json()["type"] == "/api/v1/problems/upload-expired"
    assert not PartUploadSession.objects.exists()


# --- Filesystem: edms's own part URLs ---------------------------------------------------------


@on_filesystem
@pytest.mark.django_db
def test_a_part_url_needs_its_token_and_the_parts_exact_size(registry):
    create_dossier(KEY)
    content = os.urandom(PART + 100)
    session = declare(registry, content)
    url = urlsplit(session["parts"][1]["url"])
    assert url.path == f"{SESSIONS}/{session['id']}/parts/2"
    anyone = APIClient()

    forged = anyone.generic(
        "PUT", f"{url.path}?token=forged", content[PART:], content_type="application/octet-stream"
    )
    assert forged.status_code == 403
    assert forged.json()["type"] == "/api/v1/problems/upload-link-invalid"
    # Part 1's token does not open part 2.
    token_of_1 = urlsplit(session["parts"][0]["url"]).query
    other = anyone.generic("PUT", f"{url.path}?{token_of_1}", content[PART:])
    assert other.status_code == 403
    wrong_size = anyone.generic("PUT", f"{url.path}?{url.query}", content[PART:-1])
    assert wrong_size.status_code == 400
    assert wrong_size.json()["field"] == "Content-Length"
    assert status_of(registry, session)["missing_parts"] == [1, 2]


@on_filesystem
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_part_cut_off_midway_does_not_count_and_is_sent_again(live_server, registry_key):
    create_dossier(KEY)
    content = os.urandom(PART + 100)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {registry_key}"
    declaration = {"size": len(content), "sha256": sha256(content), "part_size": PART}
    declaration |= {"dossier": KEY, "type": "CLM"}
    created = api.post(f"{live_server.url}{SESSIONS}", json=declaration)
    assert created.status_code == 201, created.text
    session = created.json()
    url = urlsplit(session["parts"][0]["url"])
    assert url.netloc == urlsplit(live_server.url).netloc
    # The request announces the whole part, but the line drops after 1 MiB.
    with socket.create_connection((url.hostname, url.port)) as connection:
        connection.sendall(
            (
                f"PUT {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Content-Length: {PART}\r\n\r\n"
            ).encode()
            + content[:MIB]
        )
    status_url = f"{live_server.url}{SESSIONS}/{session['id']}"
    # The server gives the part up when the line drops, and lets the spool go.
    wait_until(_spool_unlocked, timeout=30, what="the server to give the cut-off part up")
    assert api.get(status_url).json()["missing_parts"] == [1, 2]

    for part in session["parts"]:  # part 1 again, whole, and part 2
        body = content[part["offset"] : part["offset"] + part["size"]]
        assert requests.put(part["url"], data=body).status_code == 204
    committed = api.post(f"{status_url}/commit")
    assert committed.status_code == 200, committed.text
    assert Version.objects.get().blob.sha256 == sha256(content)


def _spool_unlocked() -> bool:
    """No part write holds the session's spool (a shared `flock` while it writes)."""
    path = PartUploadSession.objects.get().spool_path
    with open(path, "rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


@on_filesystem
@pytest.mark.django_db
def test_parts_may_arrive_in_any_order_and_again(registry):
    create_dossier(KEY)
    content = os.urandom(2 * PART + 5)
    session = declare(registry, content)
    put_parts(session, content, numbers={3})
    put_parts(session, content, numbers={1})
    put_parts(session, content, numbers={3})  # the same part twice: harmless
    put_parts(session, content, numbers={2})
    assert commit(registry, session).status_code == 200
    assert Version.objects.get().blob.sha256 == sha256(content)
    late = urlsplit(session["parts"][0]["url"])
    refused = APIClient().generic("PUT", f"{late.path}?{late.query}", content[:PART])
    assert refused.status_code == 409
    assert refused.json()["type"] == "/api/v1/problems/upload-closed"


# --- S3: the bytes go straight to the bucket --------------------------------------------------


@on_s3
@pytest.mark.django_db
def test_on_s3_the_parts_go_to_the_bucket_and_only_the_verified_content_gets_a_key(
    registry, s3_bucket
):
    create_dossier(KEY)
    content = os.urandom(2 * PART + 3)
    session = declare(registry, content)
    staged = s3_bucket.key(f"uploads/{session['id']}")
    for part in session["parts"]:
        query = urlsplit(part["url"]).query
        assert "X-Amz-Signature=" in query or "Signature=" in query
    assert staged in _open_multipart_uploads()

    put_parts(session, content)
    # What arrived is S3's to say: edms saw none of it, yet knows every part is there.
    assert status_of(registry, session)["missing_parts"] == []
    digest = sha256(content)
    content_key = s3_bucket.key(f"sha256/{digest[:2]}/{digest[2:4]}/{digest}")
    assert _keys(s3_bucket, content_key) == []  # nothing under its content key before the commit

    assert commit(registry, session).status_code == 200
    assert _keys(s3_bucket, content_key) == [content_key]
    body = s3_bucket.client.get_object(Bucket=s3_bucket.bucket, Key=content_key)["Body"].read()
    assert body == content
    # The staging object and the multipart upload are gone.
    assert _keys(s3_bucket, staged) == []
    assert staged not in _open_multipart_uploads()


@on_s3
@pytest.mark.django_db
def test_on_s3_a_part_cut_short_counts_as_missing_until_sent_again(registry):
    create_dossier(KEY)
    content = os.urandom(PART + 99)
    session = declare(registry, content)
    put_part(session, 1, content[: PART - 1000])  # S3 took it, but it is not the whole part
    put_part(session, 2, content[PART:])
    assert status_of(registry, session)["missing_parts"] == [1]
    assert commit(registry, session).json()["missing_parts"] == [1]

    put_part(status_of(registry, session), 1, content[:PART])
    assert commit(registry, session).status_code == 200
    assert Version.objects.get().blob.sha256 == sha256(content)


@on_s3
@pytest.mark.django_db
def test_on_s3_a_commit_cut_short_after_assembling_is_finished_by_the_next(registry, s3_bucket):
    create_dossier(KEY)
    content = os.urandom(PART + 42)
    session = declare(registry, content)
    put_parts(session, content)
    # A commit assembled the parts and its process was killed before it noted so.
    row = PartUploadSession.objects.get()
    staged = s3_bucket.key(f"uploads/{session['id']}")
    held = s3_bucket.client.list_parts(
        Bucket=s3_bucket.bucket, Key=staged, UploadId=row.multipart_id
    )["Parts"]
    s3_bucket.client.complete_multipart_upload(
        Bucket=s3_bucket.bucket,
        Key=staged,
        UploadId=row.multipart_id,
        MultipartUpload={
            "Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in held]
        },
    )

    assert commit(registry, session).status_code == 200
    assert Version.objects.get().blob.sha256 == sha256(content)
    assert _keys(s3_bucket, staged) == []


@on_s3
@pytest.mark.django_db
def test_on_s3_a_digest_mismatch_leaves_nothing_in_the_bucket(registry, s3_bucket):
    create_dossier(KEY)
    content = os.urandom(PART + 5)
    session = declare(registry, content, digest=sha256(b"not it"))
    put_parts(session, content)
    assert commit(registry, session).status_code == 422
    assert _keys(s3_bucket, s3_bucket.key(f"uploads/{session['id']}")) == []
    digest = sha256(content)
    assert _keys(s3_bucket, s3_bucket.key(f"sha256/{digest[:2]}/{digest[2:4]}/{digest}")) == []
    assert s3_bucket.key(f"uploads/{session['id']}") not in _open_multipart_uploads()


@on_s3
@pytest.mark.django_db
def test_on_s3_the_same_content_again_is_deduplicated(registry, s3_bucket):
    dossier = create_dossier(KEY)
    content = os.urandom(6000)
    file_document(dossier, content)
    session = declare(registry, content)
    put_parts(session, content)
    assert commit(registry, session).status_code == 200
    assert Document.objects.count() == 2
    assert Blob.objects.filter(sha256=sha256(content)).count() == 1
    assert _keys(s3_bucket, s3_bucket.key(f"uploads/{session['id']}")) == []


# --- What the bucket holds --------------------------------------------------------------------


def _stored(digest: str) -> bool:
    from dossier.blobstore import exists

    return exists(digest)


def _keys(s3_bucket, prefix: str) -> list[str]:
    listing = s3_bucket.client.list_objects_v2(Bucket=s3_bucket.bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def _open_multipart_uploads() -> list[str]:
    """The keys of the bucket's multipart uploads not completed nor aborted (none off S3)."""
    if not blobs_on_s3():
        return []
    client, bucket, prefix = _s3()
    listing = client.list_multipart_uploads(Bucket=bucket, Prefix=f"{prefix}uploads/")
    return sorted(upload["Key"] for upload in listing.get("Uploads", []))


def _s3():
    """Our own client to edms's bucket: (client, bucket, key prefix with its slash or "")."""
    import boto3

    options = settings.STORAGES["blobs"]["OPTIONS"]
    client = boto3.client(
        "s3",
        endpoint_url=options.get("endpoint_url"),
        region_name=options.get("region_name"),
        aws_access_key_id=options.get("access_key"),
        aws_secret_access_key=options.get("secret_key"),
    )
    prefix = (options.get("location") or "").strip("/")
    return client, options["bucket_name"], f"{prefix}/" if prefix else ""


@pytest.mark.django_db
def test_the_public_has_no_sessions(registry, public):
    create_dossier(KEY)
    session = declare(registry, b"mine")
    for response in (
        public.get(f"{SESSIONS}/{session['id']}"),
        public.get(f"{SESSIONS}/00000000-0000-4000-8000-000000000000"),
    ):
        assert response.status_code == 401, response.content
        assert response["Content-Type"] == "application/problem+json"


# --- The OpenAPI schema -----------------------------------------------------------------------


@pytest.mark.django_db
def test_answers_and_problems_conform_to_the_openapi_schema(registry, conforms):
    create_dossier(KEY)
    content = os.urandom(PART + 10)
    detail = SESSIONS + "/{session_id}"

    bad = registry.post(SESSIONS, {"size": 10, "sha256": "nope"}, format="json")
    assert conforms(bad, SESSIONS)["type"] == "/api/v1/problems/validation-error"
    created = registry.post(
        SESSIONS,
        {
            "size": len(content),
            "sha256": sha256(content),
            "part_size": PART,
            "dossier": KEY,
            "type": "CLM",
            "filename": "sequence.bin",
        },
        format="json",
    )
    session = conforms(created, SESSIONS)
    assert created.status_code == 201
    assert conforms(registry.get(f"{SESSIONS}/{session['id']}"), detail)["missing_parts"] == [1, 2]
    incomplete = commit(registry, session)
    assert conforms(incomplete, detail + "/commit")["missing_parts"] == [1, 2]
    put_parts(session, content)
    filed = commit(registry, session)
    assert conforms(filed, detail + "/commit")["state"] == "filed"
    unknown = registry.get(f"{SESSIONS}/00000000-0000-0000-0000-000000000000")
    assert conforms(unknown, detail)["type"] == "/api/v1/problems/unknown-upload"
