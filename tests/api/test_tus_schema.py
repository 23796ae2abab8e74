"""The tus calls (`/api/v1/uploads`) answer as the OpenAPI document describes them: each answer's
status, headers (`Upload-Offset` a number, `Edms-Document-Id` a UUID, …) and problem body are
validated against the served schema, and bad input is a problem document that leaves nothing
behind. (tests/api/test_tus_uploads.py drives the same calls with a real tus client.)"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid

import pytest
from django.utils import timezone

from api.models import UploadSession
from dossier.models import Version
from tests.conftest import create_dossier
from tests.system.test_security_schema import assert_documented

pytestmark = pytest.mark.django_db

KEY = "BG/P/2024/000123"
CREATE = "/api/v1/uploads"
DETAIL = "/api/v1/uploads/{upload_id}"
CONTENT = b"1. A widget with a handle.\n" * 40
LENGTH = len(CONTENT)
TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}


@pytest.fixture(autouse=True)
def resumable_dir(settings, tmp_path):
    settings.EDMS_RESUMABLE_DIR = str(tmp_path / "resumable")


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


NEW_CLAIMS = metadata(
    filename="claims.txt", dossier=KEY, type="CLM", sha256=hashlib.sha256(CONTENT).hexdigest()
)


def create(client, length: int | str = LENGTH, upload_metadata: str = NEW_CLAIMS, **headers):
    return client.post(
        CREATE,
        HTTP_UPLOAD_LENGTH=str(length),
        HTTP_UPLOAD_METADATA=upload_metadata,
        **{**TUS, **headers},
    )


def patch(client, url: str, chunk: bytes, offset: int | str, **headers):
    return client.patch(
        url,
        chunk,
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
        **{**TUS, **headers},
    )


def sha256_checksum(chunk: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(chunk).digest()).decode()


def test_a_whole_upload_answers_as_the_schema_says(registry, conforms):
    create_dossier(KEY)
    options = registry.options(CREATE)
    assert options.status_code == 204
    conforms(options, CREATE)
    assert int(options["Tus-Max-Size"]) > len(CONTENT)

    created = create(registry)
    assert created.status_code == 201, created.content
    conforms(created, CREATE)
    url = created["Location"]
    assert created["Upload-Offset"] == "0"

    status = registry.head(url, **TUS)
    assert status.status_code == 200
    conforms(status, DETAIL)
    first = patch(
        registry, url, CONTENT[:500], 0, HTTP_UPLOAD_CHECKSUM=sha256_checksum(CONTENT[:500])
    )
    assert first.status_code == 204, first.content
    conforms(first, DETAIL)
    assert first["Upload-Offset"] == "500" and "Edms-Document-Id" not in first

    last = patch(registry, url, CONTENT[500:], 500)
    assert last.status_code == 204, last.content
    conforms(last, DETAIL)
    version = Version.objects.get()
    assert last["Edms-Document-Id"] == str(version.document_id)
    assert last["Edms-Version"] == "1"
    completed = registry.head(url, **TUS)
    conforms(completed, DETAIL)
    assert completed["Content-Location"] == f"/api/v1/documents/{version.document_id}"

    ended = registry.delete(url, **TUS)
    assert ended.status_code == 204
    conforms(ended, DETAIL)
    assert not UploadSession.objects.exists() and Version.objects.count() == 1


@pytest.mark.parametrize(
    ("headers", "status", "slug", "field"),
    [
        ({"HTTP_TUS_RESUMABLE": "0.2.2"}, 412, "tus-version-unsupported", None),
        ({"length": "a lot"}, 400, "validation-error", "Upload-Length"),
        # A digit to str.isdigit, not to int() (latin-1, so a real header may carry it): was a 500.
        ({"length": "\u00b2"}, 400, "validation-error", "Upload-Length"),
        ({"length": 0}, 400, "empty-file", "file"),
        ({"length": 10 * 1024**4}, 413, "file-too-large", "file"),
        ({"upload_metadata": "filename %%%"}, 400, "validation-error", "filename"),
        # PostgreSQL cannot hold a NUL: refused before it reaches a query or a row.
        (
            {"upload_metadata": metadata(dossier=KEY, type="CLM", filetype="text/plain\x00")},
            400,
            "validation-error",
            "filetype",
        ),
        (
            {"upload_metadata": metadata(filename="x.txt")},
            400,
            "validation-error",
            "Upload-Metadata",
        ),
        (
            {"upload_metadata": metadata(dossier=KEY, type="NOPE")},
            400,
            "unknown-document-type",
            "type",
        ),
        (
            {"upload_metadata": metadata(dossier="BG/P/2024/9", type="CLM")},
            404,
            "unknown-dossier",
            None,
        ),
        (
            {"upload_metadata": metadata(dossier=KEY, type="CLM", sha256="abc")},
            400,
            "validation-error",
            "sha256",
        ),
    ],
)
def test_a_bad_creation_is_a_problem_and_opens_nothing(
    registry, conforms, headers, status, slug, field
):
    create_dossier(KEY)
    response = create(registry, **headers)
    assert response.status_code == status, response.content
    problem = conforms(response, CREATE)
    assert problem["type"] == f"/api/v1/problems/{slug}"
    assert problem.get("field") == field
    assert response["Tus-Resumable"] == "1.0.0"
    if status == 412:
        assert response["Tus-Version"] == "1.0.0"  # what the server speaks instead
    assert not UploadSession.objects.exists()


def test_the_public_may_not_open_an_upload(public, conforms):
    create_dossier(KEY)
    refused = create(public)
    assert conforms(refused, CREATE)["type"] == "/api/v1/problems/not-authenticated"
    assert not UploadSession.objects.exists()


def test_a_bad_chunk_is_a_problem_and_keeps_nothing_of_it(registry, conforms):
    create_dossier(KEY)
    url = create(registry)["Location"]
    assert patch(registry, url, CONTENT[:100], 0).status_code == 204
    for response, status, slug in [
        (
            registry.patch(
                url, CONTENT[100:200], content_type="text/plain", HTTP_UPLOAD_OFFSET="100", **TUS
            ),
            415,
            "unsupported-media-type",
        ),
        (patch(registry, url, CONTENT[100:200], 0), 409, "upload-offset-mismatch"),
        (
            patch(registry, url, CONTENT[100:200], 100, HTTP_UPLOAD_CHECKSUM=sha256_checksum(b"x")),
            460,
            "checksum-mismatch",
        ),
        (
            patch(registry, url, CONTENT[100:200], 100, HTTP_UPLOAD_CHECKSUM="md5 AAAA"),
            400,
            "validation-error",
        ),
        (patch(registry, url, CONTENT[100:] + b"more", 100), 400, "validation-error"),
        (patch(registry, url, CONTENT[100:200], "\u00b2"), 400, "validation-error"),  # was a 500
        (
            patch(registry, url, CONTENT[100:200], 100, HTTP_TUS_RESUMABLE="2"),
            412,
            "tus-version-unsupported",
        ),
        (patch(registry, f"/api/v1/uploads/{uuid.uuid4()}", CONTENT, 0), 404, "unknown-upload"),
    ]:
        assert response.status_code == status, response.content
        assert conforms(response, DETAIL)["type"] == f"/api/v1/problems/{slug}"
    assert UploadSession.objects.get().offset == 100
    assert not Version.objects.exists()


def test_an_expired_or_unknown_upload_is_a_documented_problem(registry, conforms, schema_document):
    create_dossier(KEY)
    url = create(registry)["Location"]
    UploadSession.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    expired = registry.head(url, **TUS)
    assert expired.status_code == 410
    # The test client drops a HEAD answer's body: its status and media type are checked.
    assert_documented(schema_document, DETAIL, "head", expired)
    assert not UploadSession.objects.exists()  # gone with its bytes
    for response in (patch(registry, url, CONTENT, 0), registry.delete(url, **TUS)):
        assert conforms(response, DETAIL)["type"] == "/api/v1/problems/unknown-upload"
    unknown = registry.head(f"/api/v1/uploads/{uuid.uuid4()}", **TUS)
    assert unknown.status_code == 404
    assert_documented(schema_document, DETAIL, "head", unknown)
