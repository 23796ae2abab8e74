"""Registering documents, the file-wrapper listing, document detail, PATCH (metadata, move,
cancel) and new versions, through `/api/v1`."""

from __future__ import annotations

import base64
import hashlib
import os
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dossier import blobstore
from dossier.models import AuditEvent, Blob, Document, DocumentType, Version
from tests.conftest import create_dossier, file_document

DOSSIER_URL = "/api/v1/dossiers/BG/P/2024/000123"
DOCUMENTS_URL = f"{DOSSIER_URL}/documents"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def upload(content: bytes, name: str = "claims.txt", media_type: str = "text/plain"):
    return SimpleUploadedFile(name, content, content_type=media_type)


def register(client, content: bytes | None = None, url: str = DOCUMENTS_URL, **fields):
    content = os.urandom(256) if content is None else content
    fields.setdefault("type", "CLM")
    body = {"file": upload(content, fields.pop("filename", "claims.txt"))} | fields
    return client.post(url, body, format="multipart")


def problem_type(response) -> str:
    assert response["Content-Type"] == "application/problem+json", response.content
    return response.json()["type"].rsplit("/", 1)[-1]


def detail(client, document_id) -> dict:
    response = client.get(f"/api/v1/documents/{document_id}")
    assert response.status_code == 200, response.content
    return response.json()


# --- Registration ---------------------------------------------------------------------------


def test_register_with_all_fields(registry, dossier):
    response = register(
        registry,
        PDF,
        filename="Заявка №1.pdf",
        type="REQ",
        direction="in",
        official_date="2024-03-01",
        channel="efiling",
        visibility="public",
        title="Request for grant",
        registry_id="IPAS-DOC-77",
        language="bg",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["version"] == 1
    assert body["sha256"] == sha256(PDF)
    assert body["size"] == len(PDF)
    assert body["media_type"] == "application/pdf"
    assert body["filename"] == "Заявка №1.pdf"
    assert body["type"] == "REQ"
    assert body["dossier"] == "BG/P/2024/000123"
    assert response["Location"] == f"/api/v1/documents/{body['id']}"

    document = detail(registry, body["id"])
    assert document["type"] == "REQ"
    assert document["direction"] == "in"
    assert document["official_date"] == "2024-03-01"
    assert document["channel"] == "efiling"
    assert document["visibility"] == "public"
    assert document["title"] == "Request for grant"
    assert document["registry_id"] == "IPAS-DOC-77"
    assert document["language"] == "bg"
    assert document["state"] == "active"
    assert blobstore.exists(sha256(PDF))


def test_type_table_supplies_defaults(registry, dossier):
    office_action = register(registry, type="OA").json()
    examiner_notes = register(registry, type="SRCH-NOTE").json()
    oa = detail(registry, office_action["id"])
    notes = detail(registry, examiner_notes["id"])
    oa_type = DocumentType.objects.get(code="OA")
    notes_type = DocumentType.objects.get(code="SRCH-NOTE")
    assert (oa["direction"], oa["visibility"]) == (oa_type.direction, oa_type.default_visibility)
    assert oa["direction"] == "out"
    assert (notes["direction"], notes["visibility"]) == ("internal", "internal")
    assert notes_type.default_visibility == "internal"
    assert oa["title"] == oa_type.label()  # an untitled document takes its type's label


def test_type_codes_are_case_insensitive(registry, dossier):
    assert register(registry, type="clm").json()["type"] == "CLM"


@pytest.mark.parametrize(
    ("fields", "status", "slug"),
    [
        ({"type": "NOPE"}, 400, "unknown-document-type"),
        ({"direction": "sideways"}, 400, "validation-error"),
        ({"visibility": "everyone"}, 400, "validation-error"),
        ({"official_date": "01.03.2024"}, 400, "validation-error"),
        ({"channel": "pigeon"}, 400, "validation-error"),
    ],
)
def test_bad_fields_are_problems_and_store_nothing(registry, dossier, fields, status, slug):
    content = os.urandom(100)
    response = register(registry, content, **fields)
    assert response.status_code == status
    assert problem_type(response) == slug
    assert not Document.objects.exists()
    assert not Blob.objects.filter(sha256=sha256(content)).exists()


def test_empty_file_is_a_problem(registry, dossier):
    response = register(registry, b"")
    assert response.status_code == 400
    assert problem_type(response) == "empty-file"
    assert not Document.objects.exists()


def test_missing_file_is_a_problem(registry, dossier):
    response = registry.post(DOCUMENTS_URL, {"type": "CLM"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["field"] == "file"


def test_json_body_is_the_wrong_content_type(registry, dossier):
    response = registry.post(DOCUMENTS_URL, {"type": "CLM"}, format="json")
    assert response.status_code == 415
    assert problem_type(response) == "unsupported-media-type"


def test_unknown_dossier(registry, db):
    response = register(registry, url="/api/v1/dossiers/BG/P/2024/5/documents")
    assert response.status_code == 404
    assert problem_type(response) == "unknown-dossier"


def test_registration_into_a_cyrillic_dossier(registry, db):
    create_dossier("BG/Д/2023/17", ip_type="design")
    url = f"/api/v1/dossiers/{quote('BG/Д/2023/17')}/documents"
    response = register(registry, url=url, type="DREP")
    assert response.status_code == 201, response.content
    assert response.json()["dossier"] == "BG/Д/2023/000017"


def test_the_public_cannot_register(public, dossier):
    response = register(public)
    assert response.status_code == 401
    assert problem_type(response) == "not-authenticated"
    assert not Document.objects.exists()


# --- Client digests -------------------------------------------------------------------------


def b64(content: bytes) -> str:
    return base64.b64encode(hashlib.sha256(content).digest()).decode()


def digest_headers(kind: str, content: bytes) -> tuple[dict, dict]:
    """(extra form fields, headers) vouching for `content` in the given way."""
    if kind == "form":
        return {"sha256": sha256(content)}, {}
    if kind == "repr-digest":
        return {}, {"HTTP_REPR_DIGEST": f"sha-256=:{b64(content)}:"}
    return {}, {"HTTP_DIGEST": f"SHA-256={b64(content)}"}


@pytest.mark.parametrize("kind", ["form", "repr-digest", "digest"])
def test_a_right_client_digest_is_accepted(registry, dossier, kind):
    content = os.urandom(500)
    fields, headers = digest_headers(kind, content)
    response = registry.post(
        DOCUMENTS_URL,
        {"file": upload(content), "type": "CLM"} | fields,
        format="multipart",
        **headers,
    )
    assert response.status_code == 201, response.content
    assert response.json()["sha256"] == sha256(content)


@pytest.mark.parametrize("kind", ["form", "repr-digest", "digest"])
def test_a_wrong_client_digest_stores_nothing(registry, dossier, kind):
    content = os.urandom(500)
    fields, headers = digest_headers(kind, b"other bytes")
    response = registry.post(
        DOCUMENTS_URL,
        {"file": upload(content), "type": "CLM"} | fields,
        format="multipart",
        **headers,
    )
    assert response.status_code == 422
    assert problem_type(response) == "digest-mismatch"
    assert not Document.objects.exists()
    assert not Version.objects.exists()
    assert not Blob.objects.filter(sha256=sha256(content)).exists()
    assert not blobstore.exists(sha256(content))


def test_a_wrong_digest_on_a_new_version_stores_nothing(registry, dossier):
    document = file_document(dossier)
    content = os.urandom(300)
    response = registry.post(
        f"/api/v1/documents/{document.id}/versions",
        {"file": upload(content), "sha256": sha256(b"something else")},
        format="multipart",
    )
    assert response.status_code == 422
    assert problem_type(response) == "digest-mismatch"
    assert document.versions.count() == 1
    assert not Blob.objects.filter(sha256=sha256(content)).exists()
    assert not blobstore.exists(sha256(content))


def test_a_malformed_digest_header_is_a_problem(registry, dossier):
    response = registry.post(
        DOCUMENTS_URL,
        {"file": upload(b"abc"), "type": "CLM"},
        format="multipart",
        HTTP_REPR_DIGEST="sha-256=:bm90IGEgZGlnZXN0:",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "Repr-Digest"
    assert not Document.objects.exists()


# --- The file-wrapper listing ---------------------------------------------------------------


@pytest.fixture
def wrapper(dossier):
    """A small file wrapper: request, claims, an office action and an examiner's note."""
    return {
        "REQ": file_document(dossier, type_code="REQ", official_date="2024-01-10"),
        "CLM": file_document(dossier, type_code="CLM", official_date="2024-01-10"),
        "OA": file_document(dossier, type_code="OA", official_date="2024-05-02"),
        "SRCH-NOTE": file_document(dossier, type_code="SRCH-NOTE", official_date="2024-04-20"),
        "RESP": file_document(
            dossier, type_code="RESP", official_date="2024-08-30", visibility="confidential"
        ),
    }


def listed(client, **params) -> list[str]:
    response = client.get(DOCUMENTS_URL, params)
    assert response.status_code == 200, response.content
    return [row["type"] for row in response.json()["results"]]


def test_listing_is_in_official_date_order(registry, wrapper):
    assert listed(registry) == ["REQ", "CLM", "SRCH-NOTE", "OA", "RESP"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "OA"}, ["OA"]),
        ({"type": "req,clm"}, ["REQ", "CLM"]),
        ({"direction": "out"}, ["OA"]),
        ({"direction": "internal"}, ["SRCH-NOTE"]),
        ({"date_from": "2024-04-20"}, ["SRCH-NOTE", "OA", "RESP"]),
        ({"date_to": "2024-04-20"}, ["REQ", "CLM", "SRCH-NOTE"]),
        ({"date_from": "2024-02-01", "date_to": "2024-06-01"}, ["SRCH-NOTE", "OA"]),
        ({"visibility": "confidential"}, ["RESP"]),
        ({"visibility": "internal"}, ["SRCH-NOTE"]),
        ({"direction": "in", "date_from": "2024-02-01"}, ["RESP"]),
    ],
)
def test_listing_filters(registry, wrapper, params, expected):
    assert listed(registry, **params) == expected


def test_listing_rejects_a_bad_filter(registry, wrapper):
    response = registry.get(DOCUMENTS_URL, {"date_from": "yesterday"})
    assert response.status_code == 400
    assert response.json()["field"] == "date_from"


def test_listing_never_carries_text(registry, wrapper):
    rows = registry.get(DOCUMENTS_URL).json()["results"]
    assert rows
    for row in rows:
        assert "text" not in row
        assert not any("text" in name for name in row)
        assert "versions" not in row
        assert row["latest"]["number"] == 1
        assert set(row["latest"]) >= {"number", "sha256", "size", "media_type", "filename"}


def test_records_clerks_do_not_list_internal_documents(records_clerk, wrapper):
    assert "SRCH-NOTE" not in listed(records_clerk)
    assert "OA" in listed(records_clerk)


# --- Detail ---------------------------------------------------------------------------------


def test_document_detail_shape(registry, dossier):
    created = register(registry, PDF, filename="claims.pdf", type="CLM").json()
    body = detail(registry, created["id"])
    assert body["id"] == created["id"]
    assert body["dossier"] == "BG/P/2024/000123"
    assert body["dossier_id"] == str(dossier.id)
    for field in ("type", "direction", "official_date", "visibility", "state", "title"):
        assert field in body
    [version] = body["versions"]
    assert version["number"] == 1
    assert version["sha256"] == sha256(PDF)
    assert version["size"] == len(PDF)
    assert version["media_type"] == "application/pdf"
    assert version["filename"] == "claims.pdf"
    assert version["created_at"]
    assert version["created_by"] == "ipas"


def test_unknown_document(registry, db):
    response = registry.get("/api/v1/documents/0b9e7a6e-4d3c-4f5e-9a1b-000000000000")
    assert response.status_code == 404
    assert problem_type(response) == "unknown-document"


# --- PATCH: metadata, move, cancel ----------------------------------------------------------


def patch(client, document_id, body: dict, **headers):
    return client.patch(f"/api/v1/documents/{document_id}", body, format="json", **headers)


def test_patch_changes_metadata(registry, dossier):
    document = file_document(dossier, type_code="LETTER")
    response = patch(
        registry,
        document.id,
        {
            "type": "RESP",
            "direction": "in",
            "official_date": "2024-06-30",
            "visibility": "confidential",
            "title": "Reply to the office action",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "RESP"
    assert body["direction"] == "in"
    assert body["official_date"] == "2024-06-30"
    assert body["visibility"] == "confidential"
    assert body["title"] == "Reply to the office action"
    assert detail(registry, document.id) == body
    assert len(body["versions"]) == 1  # metadata changes make no new version


def test_patch_with_an_unknown_type_changes_nothing(registry, dossier):
    document = file_document(dossier, type_code="LETTER")
    response = patch(registry, document.id, {"type": "NOPE", "title": "x"})
    assert response.status_code == 400
    assert problem_type(response) == "unknown-document-type"
    document.refresh_from_db()
    assert document.doc_type_id == "LETTER"


def test_patch_with_invalid_json(registry, dossier):
    document = file_document(dossier)
    response = registry.generic(
        "PATCH",
        f"/api/v1/documents/{document.id}",
        b'{"title": ',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert problem_type(response) == "invalid-json"


def test_move_to_another_dossier(registry, dossier):
    divisional = create_dossier("BG/P/2024/124", title="Divisional")
    document = file_document(dossier)
    response = patch(registry, document.id, {"dossier": "BG/P/2024/124"})
    assert response.status_code == 200, response.content
    assert response.json()["dossier"] == "BG/P/2024/000124"
    assert response.json()["dossier_id"] == str(divisional.id)
    moved = registry.get("/api/v1/dossiers/BG/P/2024/124/documents").json()["results"]
    assert [row["id"] for row in moved] == [str(document.id)]
    assert registry.get(DOCUMENTS_URL).json()["count"] == 0


def test_move_to_an_unknown_dossier(registry, dossier):
    document = file_document(dossier)
    response = patch(registry, document.id, {"dossier": "BG/P/2024/999"})
    assert response.status_code == 404
    assert problem_type(response) == "unknown-dossier"


@pytest.fixture
def cancelled(registry, dossier):
    content = os.urandom(128)
    document = file_document(dossier, content, type_code="FEE")
    response = patch(
        registry, document.id, {"state": "cancelled", "cancel_reason": "filed in error"}
    )
    assert response.status_code == 200, response.content
    return document, content, response.json()


def test_cancel_leaves_a_tombstone(registry, cancelled):
    document, _, body = cancelled
    assert body["state"] == "cancelled"
    assert body["cancel_reason"] == "filed in error"
    assert body["cancelled_at"]
    assert Document.objects.filter(id=document.id).exists()
    rows = registry.get(DOCUMENTS_URL).json()["results"]
    assert [(row["id"], row["state"]) for row in rows] == [(str(document.id), "cancelled")]
    assert listed(registry, state="active") == []


def test_cancelled_content_stays_downloadable_by_staff(registry, examiner, cancelled):
    document, content, _ = cancelled
    for client in (registry, examiner):
        response = client.get(f"/api/v1/documents/{document.id}/content")
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == content


def test_cancelled_document_is_gone_for_the_public(public, registry, dossier, cancelled):
    document, _, _ = cancelled
    active = file_document(dossier, type_code="CLM")
    # Once published, the active papers are open to inspection; the tombstone is not.
    registry.put(DOSSIER_URL, {"published_at": "2024-01-01"}, format="json")
    assert public.get(f"/api/v1/documents/{active.id}").status_code == 200
    assert public.get(f"/api/v1/documents/{document.id}").status_code == 404
    assert [row["id"] for row in public.get(DOCUMENTS_URL).json()["results"]] == [str(active.id)]


def test_cancelled_document_takes_no_new_versions(registry, cancelled):
    document, _, _ = cancelled
    response = registry.post(
        f"/api/v1/documents/{document.id}/versions",
        {"file": upload(b"late correction")},
        format="multipart",
    )
    assert response.status_code == 409
    assert problem_type(response) == "document-cancelled"
    assert document.versions.count() == 1
    assert not Blob.objects.filter(sha256=sha256(b"late correction")).exists()


def test_cancelled_metadata_is_frozen(registry, cancelled):
    document, _, _ = cancelled
    response = patch(registry, document.id, {"title": "new"})
    assert response.status_code == 409
    assert problem_type(response) == "document-cancelled"


def test_cancel_needs_a_reason(registry, dossier):
    document = file_document(dossier)
    response = patch(registry, document.id, {"state": "cancelled"})
    assert response.status_code == 400
    assert response.json()["field"] == "cancel_reason"
    document.refresh_from_db()
    assert document.state == "active"


def test_examiners_cannot_cancel(examiner, dossier):
    document = file_document(dossier)
    response = patch(examiner, document.id, {"state": "cancelled", "cancel_reason": "oops"})
    assert response.status_code == 403
    document.refresh_from_db()
    assert document.state == "active"


def test_the_api_has_no_delete(registry, dossier):
    document = file_document(dossier)
    response = registry.delete(f"/api/v1/documents/{document.id}")
    assert response.status_code == 405
    assert problem_type(response) == "method-not-allowed"
    assert Document.objects.filter(id=document.id).exists()


# --- New versions ---------------------------------------------------------------------------


def versions_url(document) -> str:
    return f"/api/v1/documents/{document.id}/versions"


def test_versions_multipart_and_raw(registry, dossier):
    first = os.urandom(100)
    document = file_document(dossier, first, filename="claims.txt")
    second, third = os.urandom(200), PDF + os.urandom(16)

    multipart = registry.post(
        versions_url(document), {"file": upload(second, "claims-v2.txt")}, format="multipart"
    )
    assert multipart.status_code == 201, multipart.content
    assert multipart.json()["version"] == 2
    assert multipart.json()["sha256"] == sha256(second)

    raw = registry.generic(
        "POST",
        versions_url(document),
        third,
        content_type="application/pdf",
        HTTP_X_FILENAME=quote("Претенции v3.pdf"),
    )
    assert raw.status_code == 201, raw.content
    assert raw.json()["version"] == 3
    assert raw.json()["filename"] == "Претенции v3.pdf"
    assert raw.json()["media_type"] == "application/pdf"
    assert raw.json()["size"] == len(third)

    versions = detail(registry, document.id)["versions"]
    assert [(v["number"], v["sha256"]) for v in versions] == [
        (1, sha256(first)),
        (2, sha256(second)),
        (3, sha256(third)),
    ]
    assert versions[0]["filename"] == "claims.txt"
    # Earlier versions are untouched, content included.
    v1 = registry.get(f"/api/v1/documents/{document.id}/versions/1/content")
    assert b"".join(v1.streaming_content) == first


def test_raw_version_with_content_disposition(registry, dossier):
    document = file_document(dossier)
    content = os.urandom(64)
    response = registry.generic(
        "POST",
        versions_url(document),
        content,
        content_type="application/octet-stream",
        HTTP_CONTENT_DISPOSITION=f"attachment; filename*=UTF-8''{quote('Отговор №2.bin')}",
    )
    assert response.status_code == 201, response.content
    assert response.json()["filename"] == "Отговор №2.bin"
    assert response.json()["version"] == 2


def test_raw_version_without_a_filename_gets_one(registry, dossier):
    document = file_document(dossier)
    response = registry.generic("POST", versions_url(document), PDF, content_type="application/pdf")
    assert response.status_code == 201, response.content
    assert response.json()["filename"] == "document.pdf"


def test_x_filename_cannot_climb_directories(registry, dossier):
    document = file_document(dossier)
    response = registry.generic(
        "POST",
        versions_url(document),
        b"data",
        content_type="text/plain",
        HTTP_X_FILENAME=quote("../../etc/passwd"),
    )
    assert response.status_code == 201
    assert response.json()["filename"] == "passwd"


def test_identical_content_is_stored_once(registry, dossier):
    content = os.urandom(1000)
    first = register(registry, content).json()
    other = register(registry, content, type="DESC").json()
    again = registry.post(
        f"/api/v1/documents/{first['id']}/versions", {"file": upload(content)}, format="multipart"
    ).json()
    assert first["sha256"] == other["sha256"] == again["sha256"] == sha256(content)
    assert again["version"] == 2
    assert Blob.objects.filter(sha256=sha256(content)).count() == 1
    assert Version.objects.filter(blob_id=sha256(content)).count() == 3


def test_list_of_versions(registry, dossier):
    document = file_document(dossier)
    registry.post(versions_url(document), {"file": upload(b"v2")}, format="multipart")
    response = registry.get(versions_url(document))
    assert [v["number"] for v in response.json()] == [1, 2]


def test_actions_are_audited_for_registration(registry, dossier):
    created = register(registry).json()
    event = AuditEvent.objects.get(action="document.attach")
    assert event.object_id == created["id"]
    assert event.actor_label == "ipas"


def test_a_wrong_digest_on_a_raw_version_stores_nothing(registry, dossier):
    document = file_document(dossier)
    content = os.urandom(300)
    response = registry.generic(
        "POST",
        f"/api/v1/documents/{document.id}/versions",
        content,
        content_type="application/octet-stream",
        HTTP_X_FILENAME="scan.bin",
        HTTP_REPR_DIGEST=f"sha-256=:{b64(b'not the content')}:",
    )
    assert response.status_code == 422
    assert problem_type(response) == "digest-mismatch"
    assert document.versions.count() == 1
    assert not Blob.objects.filter(sha256=sha256(content)).exists()
    assert not blobstore.exists(sha256(content))


def test_a_right_digest_on_a_raw_version(registry, dossier):
    document = file_document(dossier)
    content = os.urandom(300)
    response = registry.generic(
        "POST",
        f"/api/v1/documents/{document.id}/versions",
        content,
        content_type="application/octet-stream",
        HTTP_DIGEST=f"SHA-256={b64(content)}",
    )
    assert response.status_code == 201, response.content
    assert response.json()["sha256"] == sha256(content)
