"""`Idempotency-Key` on PUT dossier, POST documents, POST versions and PATCH document.

A retry with the same key and the same meaning replays the first response — even when the HTTP
client picked a new multipart boundary; the same key with another meaning is a 422; a retry
while the first request is still running is a 409; keys belong to the caller that sent them.
"""

from __future__ import annotations

import os
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import encode_multipart

from api.models import ApiKey, IdempotencyRecord
from dossier.models import AuditEvent, Blob, Document, Dossier, Event, EventKind, Version
from dossier.roles import Role
from tests.conftest import client_for_key, file_document

DOSSIER_URL = "/api/v1/dossiers/BG/P/2024/000123"
DOCUMENTS_URL = f"{DOSSIER_URL}/documents"


def key_header(key: str) -> dict:
    return {"HTTP_IDEMPOTENCY_KEY": key}


def multipart(boundary: str, content: bytes, **fields) -> tuple[bytes, str]:
    """A multipart body framed with `boundary`, as an HTTP client would build it."""
    data = {"file": SimpleUploadedFile("claims.txt", content, "text/plain")} | fields
    return encode_multipart(boundary, data), f"multipart/form-data; boundary={boundary}"


def post_multipart(client, url: str, boundary: str, content: bytes, *, key: str, **fields):
    body, content_type = multipart(boundary, content, **fields)
    return client.generic("POST", url, body, content_type=content_type, **key_header(key))


def assert_replayed(first, retry) -> None:
    assert retry.status_code == first.status_code
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


def problem_type(response) -> str:
    assert response["Content-Type"] == "application/problem+json", response.content
    return response.json()["type"].rsplit("/", 1)[-1]


# --- PUT dossier ----------------------------------------------------------------------------


def test_put_dossier_retry_replays_the_creation(registry):
    body = {"ip_type": "patent", "title": "Widget", "applicants": ["Acme"]}
    first = registry.put(DOSSIER_URL, body, format="json", **key_header("put-1"))
    # Same meaning, fields in another order: still the same request.
    reordered = {"applicants": ["Acme"], "title": "Widget", "ip_type": "patent"}
    retry = registry.put(DOSSIER_URL, reordered, format="json", **key_header("put-1"))
    assert first.status_code == 201
    assert_replayed(first, retry)  # 201 again, where a fresh PUT would answer 200
    assert retry["Location"] == first["Location"]
    assert Dossier.objects.count() == 1
    assert Event.objects.filter(kind=EventKind.DOSSIER_CREATED).count() == 1


def test_put_dossier_same_key_other_body(registry):
    registry.put(DOSSIER_URL, {"ip_type": "patent"}, format="json", **key_header("put-2"))
    response = registry.put(
        DOSSIER_URL, {"ip_type": "trademark"}, format="json", **key_header("put-2")
    )
    assert response.status_code == 422
    assert problem_type(response) == "idempotency-key-reused"
    assert response.json()["field"] == "Idempotency-Key"
    assert Dossier.objects.get().ip_type == "patent"


def test_same_key_on_another_path_is_another_request(registry):
    registry.put(DOSSIER_URL, {"ip_type": "patent"}, format="json", **key_header("put-3"))
    response = registry.put(
        "/api/v1/dossiers/BG/P/2024/9", {"ip_type": "patent"}, format="json", **key_header("put-3")
    )
    assert response.status_code == 422
    assert Dossier.objects.count() == 1


# --- POST documents -------------------------------------------------------------------------


def test_register_retry_with_a_new_boundary_replays(registry, dossier):
    content = os.urandom(2000)
    first = post_multipart(
        registry, DOCUMENTS_URL, "boundary-AAAA", content, key="reg-1", type="CLM", title="C"
    )
    retry = post_multipart(
        registry, DOCUMENTS_URL, "----retry-ZZZZ-42", content, key="reg-1", type="CLM", title="C"
    )
    assert first.status_code == 201, first.content
    assert_replayed(first, retry)
    assert retry["Location"] == first["Location"]
    assert Document.objects.count() == 1
    assert Version.objects.count() == 1
    assert Event.objects.filter(kind=EventKind.DOCUMENT_REGISTERED).count() == 1
    assert AuditEvent.objects.filter(action="document.attach").count() == 1


def test_register_same_key_other_content(registry, dossier):
    post_multipart(registry, DOCUMENTS_URL, "b1", os.urandom(100), key="reg-2", type="CLM")
    other = os.urandom(100)
    response = post_multipart(registry, DOCUMENTS_URL, "b2", other, key="reg-2", type="CLM")
    assert response.status_code == 422
    assert problem_type(response) == "idempotency-key-reused"
    assert Document.objects.count() == 1


def test_register_same_key_other_field(registry, dossier):
    content = os.urandom(100)
    post_multipart(registry, DOCUMENTS_URL, "b1", content, key="reg-3", type="CLM")
    response = post_multipart(registry, DOCUMENTS_URL, "b2", content, key="reg-3", type="DESC")
    assert response.status_code == 422
    assert problem_type(response) == "idempotency-key-reused"
    assert Document.objects.count() == 1


def test_a_refused_request_is_replayed_as_refused(registry, dossier):
    content = os.urandom(100)
    first = post_multipart(registry, DOCUMENTS_URL, "b1", content, key="reg-4", type="NOPE")
    retry = post_multipart(registry, DOCUMENTS_URL, "b2", content, key="reg-4", type="NOPE")
    assert first.status_code == 400
    assert_replayed(first, retry)
    assert problem_type(retry) == "unknown-document-type"
    assert not Document.objects.exists()


def test_without_a_key_a_retry_registers_twice(registry, dossier):
    content = os.urandom(100)
    for boundary in ("b1", "b2"):
        body, content_type = multipart(boundary, content, type="CLM")
        response = registry.generic("POST", DOCUMENTS_URL, body, content_type=content_type)
        assert response.status_code == 201
    assert Document.objects.count() == 2
    assert Blob.objects.count() == 1  # but the content is stored once


# --- In flight ------------------------------------------------------------------------------


def test_a_retry_while_the_first_runs_is_a_conflict(registry, dossier):
    content = os.urandom(300)
    # Send the request once under a probe key to learn its fingerprint ...
    post_multipart(registry, DOCUMENTS_URL, "b1", content, key="probe", type="CLM")
    probe = IdempotencyRecord.objects.get(key="probe")
    # ... then pretend the first attempt under the real key is still being processed.
    IdempotencyRecord.objects.create(
        owner=probe.owner,
        key="in-flight",
        fingerprint=probe.fingerprint,
        method="POST",
        path=probe.path,
        completed=False,
    )
    response = post_multipart(registry, DOCUMENTS_URL, "b2", content, key="in-flight", type="CLM")
    assert response.status_code == 409
    assert problem_type(response) == "idempotency-conflict"
    assert Document.objects.count() == 1  # only the probe's


def test_a_different_request_during_the_first_is_still_a_reuse(registry, dossier):
    content = os.urandom(300)
    post_multipart(registry, DOCUMENTS_URL, "b1", content, key="probe", type="CLM")
    probe = IdempotencyRecord.objects.get(key="probe")
    IdempotencyRecord.objects.create(
        owner=probe.owner, key="busy", fingerprint=probe.fingerprint, method="POST", path="/"
    )
    response = post_multipart(
        registry, DOCUMENTS_URL, "b2", os.urandom(300), key="busy", type="CLM"
    )
    assert response.status_code == 422
    assert problem_type(response) == "idempotency-key-reused"


# --- Per caller -----------------------------------------------------------------------------


def test_keys_belong_to_their_caller(registry, dossier):
    _, other_key = ApiKey.create("das", Role.REGISTRY_SYSTEM)
    other = client_for_key(other_key)
    content = os.urandom(100)
    first = post_multipart(registry, DOCUMENTS_URL, "b1", content, key="shared", type="CLM")
    second = post_multipart(other, DOCUMENTS_URL, "b2", content, key="shared", type="CLM")
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert second.json()["id"] != first.json()["id"]
    assert Document.objects.count() == 2
    # ... and a different body under the same string is no reuse for the other caller either.
    third = post_multipart(other, DOCUMENTS_URL, "b3", os.urandom(9), key="fresh", type="CLM")
    assert third.status_code == 201


# --- POST versions --------------------------------------------------------------------------


def test_version_multipart_retry_replays(registry, dossier):
    document = file_document(dossier)
    url = f"/api/v1/documents/{document.id}/versions"
    content = os.urandom(500)
    first = post_multipart(registry, url, "first-boundary", content, key="ver-1")
    retry = post_multipart(registry, url, "second-boundary", content, key="ver-1")
    assert first.status_code == 201, first.content
    assert first.json()["version"] == 2
    assert_replayed(first, retry)
    assert document.versions.count() == 2


def test_version_raw_body_retry_replays(registry, dossier):
    document = file_document(dossier)
    url = f"/api/v1/documents/{document.id}/versions"
    content = os.urandom(500)
    headers = {"HTTP_X_FILENAME": quote("Описание.pdf")} | key_header("ver-2")

    def send(body: bytes):
        return registry.generic("POST", url, body, content_type="application/pdf", **headers)

    first = send(content)
    retry = send(content)
    assert first.status_code == 201, first.content
    assert_replayed(first, retry)
    assert document.versions.count() == 2
    other = send(os.urandom(500))
    assert other.status_code == 422
    assert problem_type(other) == "idempotency-key-reused"
    assert document.versions.count() == 2


# --- PATCH document -------------------------------------------------------------------------


def test_patch_retry_replays(registry, dossier):
    document = file_document(dossier)
    url = f"/api/v1/documents/{document.id}"
    first = registry.patch(url, {"title": "Claims (amended)"}, format="json", **key_header("p1"))
    retry = registry.patch(url, {"title": "Claims (amended)"}, format="json", **key_header("p1"))
    assert first.status_code == 200
    assert_replayed(first, retry)
    assert Event.objects.filter(kind=EventKind.DOCUMENT_UPDATED).count() == 1
    other = registry.patch(url, {"title": "Something else"}, format="json", **key_header("p1"))
    assert other.status_code == 422
    document.refresh_from_db()
    assert document.title == "Claims (amended)"


def test_patch_of_an_annex_is_remembered(registry, dossier):
    parent = file_document(dossier, type_code="REQ")
    annex = file_document(dossier, type_code="DRW", parent=parent)
    url = f"/api/v1/documents/{annex.id}"
    first = registry.patch(url, {"title": "Drawings"}, format="json", **key_header("annex"))
    assert first.status_code == 200, first.content
    assert first.json()["parent"] == str(parent.id)
    retry = registry.patch(url, {"title": "Drawings"}, format="json", **key_header("annex"))
    assert_replayed(first, retry)


def test_cancel_retry_replays(registry, dossier):
    document = file_document(dossier)
    url = f"/api/v1/documents/{document.id}"
    body = {"state": "cancelled", "cancel_reason": "duplicate"}
    first = registry.patch(url, body, format="json", **key_header("c1"))
    retry = registry.patch(url, body, format="json", **key_header("c1"))
    assert_replayed(first, retry)
    assert Event.objects.filter(kind=EventKind.DOCUMENT_CANCELLED).count() == 1


# --- Edges ----------------------------------------------------------------------------------


def test_an_overlong_key_is_a_problem(registry, dossier):
    response = registry.put(
        DOSSIER_URL, {"ip_type": "patent"}, format="json", **key_header("k" * 201)
    )
    assert response.status_code == 400
    assert response.json()["field"] == "Idempotency-Key"


@pytest.mark.parametrize("method", ["get"])
def test_safe_methods_ignore_the_key(registry, dossier, method):
    for _ in range(2):
        response = getattr(registry, method)(DOCUMENTS_URL, **key_header("read"))
        assert response.status_code == 200
        assert "Idempotent-Replayed" not in response
    assert not IdempotencyRecord.objects.exists()
