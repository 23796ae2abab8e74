"""Security regressions (issue 10): request limits, rate limits, CSP, cookies and TLS.

Each test replays a finding: oversized bodies and request lines answered as problem+json (not 500
or an HTML page), login and API-key guessing limited with 429, a strict Content-Security-Policy on
UI pages, and `edms check --deploy` clean with the production example environment.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import DocumentFactory, DossierFactory
from tests.test_problems import assert_problem, nothing_stored

KEY = "BG/P/2024/000123"
DOSSIER_URL = f"/api/v1/dossiers/{KEY}"
DOCUMENTS = f"{DOSSIER_URL}/documents"
MB = 1024 * 1024


@pytest.fixture
def dossier(db):
    return DossierFactory(key=KEY)


# --- Request bodies ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_10_mb_title_is_413_not_500(registry, dossier):
    body = json.dumps({"ip_type": "patent", "title": "x" * (10 * MB)})
    response = registry.put(DOSSIER_URL, body, content_type="application/json")
    problem = assert_problem(response, 413, "request-too-large")
    assert problem["limit"] > 0


@pytest.mark.django_db
def test_a_3_mb_json_body_is_413_not_500(registry, dossier):
    body = json.dumps({"ip_type": "patent", "applicants": ["a" * 1000] * (3 * 1100)})
    assert len(body) > 3 * MB
    response = registry.put(DOSSIER_URL, body, content_type="application/json")
    assert_problem(response, 413, "request-too-large")


@pytest.mark.django_db
def test_5000_form_fields_are_400_not_500(registry, dossier):
    fields = {f"field{n}": "v" for n in range(5000)}
    fields["type"] = "CLM"
    fields["file"] = SimpleUploadedFile("claims.txt", b"claims", content_type="text/plain")
    with nothing_stored():
        response = registry.post(DOCUMENTS, fields, format="multipart")
    problem = assert_problem(response, 400, "too-many-fields")
    assert problem["limit"] == 1000


@pytest.mark.django_db
def test_an_oversized_form_field_is_413_not_500(registry, dossier):
    fields = {
        "type": "CLM",
        "title": "x" * (3 * MB),
        "file": SimpleUploadedFile("claims.txt", b"claims", content_type="text/plain"),
    }
    with nothing_stored():
        response = registry.post(DOCUMENTS, fields, format="multipart")
    assert_problem(response, 413, "request-too-large")


@pytest.mark.django_db
def test_a_file_larger_than_the_body_limit_is_still_accepted(registry, dossier):
    """Files stream to the spool under their own limit (EDMS_MAX_UPLOAD_SIZE), not the body's."""
    content = b"y" * (3 * MB)
    response = registry.post(
        DOCUMENTS,
        {"type": "CLM", "file": SimpleUploadedFile("big.txt", content)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    document = DocumentFactory._meta.model.objects.get(id=response.json()["id"])
    assert document.versions.get().blob.size == len(content)


@pytest.mark.django_db
def test_a_request_django_refuses_before_the_view_is_a_problem(registry):
    """Django's own 400 (here: a Host not allowed) is problem+json under the API too."""
    response = registry.get("/api/v1/dossiers", HTTP_HOST="attacker.example")
    assert_problem(response, 400, "bad-request")
