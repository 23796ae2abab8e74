"""Every API error is an RFC 9457 problem, and a failed request stores nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from api.problems import PROBLEM_TYPES
from dossier.models import AuditEvent, Blob, Document, Event, Version
from tests.factories import DocumentFactory, DossierFactory

KEY = "BG/P/2024/000123"
URL = f"/api/v1/dossiers/{KEY}"
DOCUMENTS = f"{URL}/documents"


def assert_problem(response, status: int, slug: str, field: str | None = None) -> dict:
    """The response is a problem of type `slug` with the RFC 9457 members filled in."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"/api/v1/problems/{slug}"
    assert body["status"] == status
    assert body["title"] == PROBLEM_TYPES[slug].title
    assert isinstance(body["detail"], str) and body["detail"].strip()
    assert body["instance"] == response.wsgi_request.path
    if field is not None:
        assert body["field"] == field
    return body


def upload(content: bytes, name: str = "claims.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


def blob_files() -> set[str]:
    """Names under the filesystem blob root (staging included); empty on S3."""
    options = django_settings.STORAGES["blobs"]["OPTIONS"]
    root = (
        Path(options["location"])
        if "location" in options and "bucket_name" not in options
        else None
    )
    if root is None or not root.exists():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@contextmanager
def nothing_stored() -> Iterator[None]:
    """Assert that the block adds no document, version, blob, event or audit row, nor blob file."""
    before = (
        Document.objects.count(),
        Version.objects.count(),
        Blob.objects.count(),
        Event.objects.count(),
        AuditEvent.objects.count(),
    )
    files = blob_files()
    yield
    after = (
        Document.objects.count(),
        Version.objects.count(),
        Blob.objects.count(),
        Event.objects.count(),
        AuditEvent.objects.count(),
    )
    assert after == before, (
        "a failed request stored rows (documents, versions, blobs, events, audit)"
    )
    assert blob_files() == files, "a failed request left files in blob storage"


@pytest.fixture
def dossier(db):
    return DossierFactory(key=KEY)


# --- Unknown and malformed names --------------------------------------------------------------


@pytest.mark.django_db
def test_unknown_dossier(registry):
    body = assert_problem(registry.get("/api/v1/dossiers/BG/P/2024/999"), 404, "unknown-dossier")
    assert "BG/P/2024/999" in body["detail"]
    assert_problem(registry.get("/api/v1/dossiers/BG/P/2024/999/documents"), 404, "unknown-dossier")


@pytest.mark.django_db
def test_registering_in_an_unknown_dossier_stores_nothing(registry):
    with nothing_stored():
        response = registry.post(
            "/api/v1/dossiers/BG/P/2024/999/documents",
            {"file": upload(b"claims"), "type": "CLM"},
            format="multipart",
        )
    assert_problem(response, 404, "unknown-dossier")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "part"), [("BG/P/20x4/1", "series"), ("XX/P/2024/1234567890", "serial")]
)
def test_malformed_file_number(registry, key, part):
    for response in (
        registry.get(f"/api/v1/dossiers/{key}"),
        registry.get(f"/api/v1/dossiers/{key}/documents"),
        registry.put(f"/api/v1/dossiers/{key}", {"ip_type": "patent"}, format="json"),
    ):
        body = assert_problem(response, 400, "malformed-file-number", field="key")
        assert part in body["detail"]


@pytest.mark.django_db
def test_unknown_document(registry):
    missing = "/api/v1/documents/00000000-0000-0000-0000-000000000000"
    for path in (missing, f"{missing}/versions", f"{missing}/content"):
        assert_problem(registry.get(path), 404, "unknown-document")


@pytest.mark.django_db
def test_unknown_version(registry, dossier):
    document = DocumentFactory(dossier=dossier)
    assert_problem(
        registry.get(f"/api/v1/documents/{document.id}/versions/7/content"), 404, "unknown-version"
    )


@pytest.mark.django_db
def test_unknown_url_under_the_api(registry):
    response = registry.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/v1/problems/not-found"
    assert response.json()["detail"]


@pytest.mark.django_db
def test_method_not_allowed(registry, dossier):
    assert_problem(registry.delete(URL), 405, "method-not-allowed")
    assert_problem(registry.post("/api/v1/events", {}, format="json"), 405, "method-not-allowed")


# --- Uploads ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_unknown_document_type_stores_nothing(registry, dossier):
    with nothing_stored():
        response = registry.post(
            DOCUMENTS, {"file": upload(b"claims"), "type": "NOPE"}, format="multipart"
        )
    body = assert_problem(response, 400, "unknown-document-type", field="type")
    assert "NOPE" in body["detail"]


@pytest.mark.django_db
def test_empty_file_stores_nothing(registry, dossier):
    with nothing_stored():
        response = registry.post(
            DOCUMENTS, {"file": upload(b""), "type": "CLM"}, format="multipart"
        )
    assert_problem(response, 400, "empty-file", field="file")


@pytest.mark.django_db
def test_empty_multipart_version_stores_nothing(registry, dossier):
    document = DocumentFactory(dossier=dossier)
    with nothing_stored():
        response = registry.post(
            f"/api/v1/documents/{document.id}/versions", {"file": upload(b"")}, format="multipart"
        )
    assert_problem(response, 400, "empty-file", field="file")
    document.refresh_from_db()
    assert document.latest_version == 1


@pytest.mark.django_db
def test_empty_raw_body_version_stores_nothing(registry, dossier):
    document = DocumentFactory(dossier=dossier)
    with nothing_stored():
        response = registry.post(
            f"/api/v1/documents/{document.id}/versions",
            b"",
            content_type="application/pdf",
            HTTP_X_FILENAME="empty.pdf",
        )
    # An empty raw body carries no file at all (DRF parses nothing), so it is a missing file.
    body = assert_problem(response, 400, "validation-error", field="file")
    assert "No file" in body["detail"]


@pytest.mark.django_db
def test_file_over_the_size_limit_stores_nothing(registry, dossier, settings):
    settings.EDMS_MAX_UPLOAD_SIZE = 1000
    with nothing_stored():
        response = registry.post(
            DOCUMENTS, {"file": upload(b"x" * 5000), "type": "CLM"}, format="multipart"
        )
    body = assert_problem(response, 413, "file-too-large", field="file")
    assert body["limit"] == 1000


@pytest.mark.django_db
def test_file_over_the_size_limit_announced_by_content_length(registry, dossier, settings):
    """A body far over the limit is refused before it is read (Content-Length alone)."""
    settings.EDMS_MAX_UPLOAD_SIZE = 1000
    document = DocumentFactory(dossier=dossier)
    with nothing_stored():
        response = registry.post(
            f"/api/v1/documents/{document.id}/versions",
            b"x" * (3 * 1024 * 1024),
            content_type="application/octet-stream",
            HTTP_X_FILENAME="big.bin",
        )
    assert_problem(response, 413, "file-too-large")


@pytest.mark.django_db
def test_a_file_exactly_at_the_limit_is_accepted(registry, dossier, settings):
    settings.EDMS_MAX_UPLOAD_SIZE = 1000
    response = registry.post(
        DOCUMENTS, {"file": upload(b"x" * 1000), "type": "CLM"}, format="multipart"
    )
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_digest_mismatch_stores_nothing(registry, dossier):
    wrong = hashlib.sha256(b"something else").hexdigest()
    with nothing_stored():
        response = registry.post(
            DOCUMENTS,
            {"file": upload(b"claims"), "type": "CLM", "sha256": wrong},
            format="multipart",
        )
    body = assert_problem(response, 422, "digest-mismatch", field="sha256")
    assert hashlib.sha256(b"claims").hexdigest() in body["detail"]


@pytest.mark.django_db
def test_validation_error_lists_every_offending_field(registry, dossier):
    with nothing_stored():
        response = registry.post(
            DOCUMENTS,
            {
                "file": upload(b"claims"),
                "type": "CLM",
                "direction": "sideways",
                "official_date": "yesterday",
            },
            format="multipart",
        )
    body = assert_problem(response, 400, "validation-error")
    fields = {error["field"] for error in body["errors"]}
    assert {"direction", "official_date"} <= fields
    assert body["field"] in fields
    assert all(error["detail"] for error in body["errors"])


@pytest.mark.django_db
def test_missing_file_is_a_validation_error(registry, dossier):
    with nothing_stored():
        response = registry.post(DOCUMENTS, {"type": "CLM"}, format="multipart")
    body = assert_problem(response, 400, "validation-error", field="file")
    assert body["errors"][0]["field"] == "file"


@pytest.mark.django_db
def test_dossier_validation_error(registry):
    response = registry.put(
        "/api/v1/dossiers/BG/P/2024/5",
        {"ip_type": "spaceship", "filing_date": "soon"},
        format="json",
    )
    body = assert_problem(response, 400, "validation-error")
    assert {e["field"] for e in body["errors"]} == {"ip_type", "filing_date"}


@pytest.mark.django_db
def test_creating_a_dossier_needs_an_ip_type(registry):
    response = registry.put("/api/v1/dossiers/BG/P/2024/5", {"title": "x"}, format="json")
    assert_problem(response, 400, "invalid-change", field="ip_type")


# --- Bodies of the wrong kind -----------------------------------------------------------------


@pytest.mark.django_db
def test_invalid_json(registry):
    response = registry.put(URL, '{"ip_type": "patent",', content_type="application/json")
    assert_problem(response, 400, "invalid-json")


@pytest.mark.django_db
def test_json_to_the_multipart_documents_endpoint(registry, dossier):
    with nothing_stored():
        response = registry.post(DOCUMENTS, {"type": "CLM"}, format="json")
    body = assert_problem(response, 415, "unsupported-media-type")
    assert "application/json" in body["detail"]


@pytest.mark.django_db
def test_text_to_the_dossier_put(registry):
    response = registry.put(URL, "ip_type=patent", content_type="text/plain")
    assert_problem(response, 415, "unsupported-media-type")


# --- Credentials and roles --------------------------------------------------------------------


@pytest.mark.django_db
def test_missing_credentials(public):
    response = public.put(URL, {"ip_type": "patent"}, format="json")
    assert_problem(response, 401, "not-authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="edms"'


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Bearer edms_nope_nope", "Bearer ", "bearer wrong"])
def test_bad_credentials(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/dossiers")
    assert_problem(response, 401, "authentication-failed")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_revoked_key_is_refused(registry_key, registry):
    from api.models import ApiKey

    ApiKey.objects.get(name="ipas").revoke()
    assert_problem(registry.get("/api/v1/dossiers"), 401, "authentication-failed")


@pytest.mark.django_db
def test_forbidden(examiner):
    body = assert_problem(examiner.put(URL, {"ip_type": "patent"}, format="json"), 403, "forbidden")
    assert "dossiers" in body["detail"]


# --- The catalogue ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("slug", sorted(PROBLEM_TYPES))
def test_every_problem_type_is_described(public, slug):
    response = public.get(f"/api/v1/problems/{slug}")
    assert response.status_code == 200
    kind = PROBLEM_TYPES[slug]
    assert response.json() == {"type": kind.uri, "title": kind.title, "status": kind.status}


@pytest.mark.django_db
def test_an_unknown_problem_type_is_itself_a_problem(public):
    assert_problem(public.get("/api/v1/problems/no-such-problem"), 404, "not-found")


@pytest.mark.django_db
def test_problem_carries_the_request_id(registry):
    response = registry.get("/api/v1/dossiers/BG/P/2024/999", HTTP_X_REQUEST_ID="trace-42")
    assert response.json()["request_id"] == "trace-42"
    assert response["X-Request-ID"] == "trace-42"
