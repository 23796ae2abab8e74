"""Signed viewer links: made by a caller who may read the document, opened by anyone holding
them, for that document only, until they expire."""

from __future__ import annotations

import time
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from api.models import ApiKey
from dossier.models import AuditEvent
from tests.conftest import create_dossier, file_document

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_link(client, document, **body) -> dict:
    response = client.post(f"/api/v1/documents/{document.id}/viewer-link", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def problem(response) -> str:
    assert response["Content-Type"] == "application/problem+json", response.content
    return response.json()["type"].rsplit("/", 1)[-1]


@pytest.fixture
def document(db):
    # Internal: only staff may read it, so opening it proves the link, not public access.
    return file_document(create_dossier(), PDF, filename="note.pdf", visibility="internal")


def test_a_link_opens_the_document_without_credentials_and_is_audited_as_a_view(examiner, document):
    link = make_link(examiner, document)
    assert link["url"].startswith("http://testserver/api/v1/documents/")
    assert APIClient().get(f"/api/v1/documents/{document.id}/content").status_code in (401, 404)

    response = APIClient().get(path_of(link["url"]))
    assert response.status_code == 200, response.content
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"

    view = AuditEvent.objects.get(action="document.view", object_id=str(document.id))
    assert view.actor.username == "erika"
    assert view.detail["via"] == "viewer-link"
    assert view.detail["version"] == 1
    issued = AuditEvent.objects.get(action="document.viewer_link", object_id=str(document.id))
    assert issued.actor.username == "erika"


def test_the_default_link_lives_ten_minutes_and_at_most_an_hour(examiner, document):
    before = time.time()
    link = make_link(examiner, document)

    lifetime = datetime.fromisoformat(link["expires_at"]).timestamp() - before
    assert 598 <= lifetime <= 601
    too_long = examiner.post(
        f"/api/v1/documents/{document.id}/viewer-link", {"expires_in": 3601}, format="json"
    )
    assert too_long.status_code == 400
    assert problem(too_long) == "validation-error"


def test_a_link_opens_no_other_document(examiner, document):
    other = file_document(document.dossier, b"other", visibility="internal")
    link = make_link(examiner, document)
    swapped = path_of(link["url"]).replace(str(document.id), str(other.id))
    response = APIClient().get(swapped)
    assert response.status_code == 403
    assert problem(response) == "viewer-link-invalid"
    assert not AuditEvent.objects.filter(action="document.view").exists()


def test_an_expired_link_is_refused(examiner, document):
    link = make_link(examiner, document, expires_in=1)
    time.sleep(2.1)
    response = APIClient().get(path_of(link["url"]))
    assert response.status_code == 410
    assert problem(response) == "viewer-link-expired"


def test_a_tampered_link_is_refused(examiner, document):
    url = path_of(make_link(examiner, document)["url"])
    # The lifetime is in the signed part: stretching it (or any other change) breaks the seal.
    for forged in (url[:-1] + ("A" if url[-1] != "A" else "B"), url.replace("token=", "token=x")):
        response = APIClient().get(forged)
        assert response.status_code == 403, forged
        assert problem(response) == "viewer-link-invalid"
    assert problem(APIClient().get(url.split("?")[0])) == "viewer-link-invalid"


def test_only_a_reader_gets_a_link_and_it_dies_with_their_key(
    examiner, records_clerk, public, document
):
    # Records clerks never see internal documents: no link for them either.
    response = records_clerk.post(f"/api/v1/documents/{document.id}/viewer-link", {}, format="json")
    assert response.status_code == 404
    assert public.post(f"/api/v1/documents/{document.id}/viewer-link").status_code == 401

    link = make_link(examiner, document)
    ApiKey.objects.filter(name="examiner-ui").update(revoked_at="2026-01-01T00:00:00Z")
    response = APIClient().get(path_of(link["url"]))
    assert response.status_code == 403
    assert problem(response) == "viewer-link-invalid"


def test_answers_and_problems_conform_to_the_openapi_schema(
    examiner, records_clerk, document, conforms
):
    make = "/api/v1/documents/{document_id}/viewer-link"
    view = "/api/v1/documents/{document_id}/view"
    made = examiner.post(f"/api/v1/documents/{document.id}/viewer-link", {}, format="json")
    assert made.status_code == 201
    link = conforms(made, make)
    too_long = examiner.post(
        f"/api/v1/documents/{document.id}/viewer-link", {"expires_in": 3601}, format="json"
    )
    assert conforms(too_long, make)["field"] == "expires_in"
    hidden = records_clerk.post(f"/api/v1/documents/{document.id}/viewer-link", {}, format="json")
    assert conforms(hidden, make)["type"] == "/api/v1/problems/unknown-document"

    opened = APIClient().get(path_of(link["url"]))
    assert opened.status_code == 200
    assert conforms(opened, view) is None  # the PDF itself
    forged = APIClient().get(path_of(link["url"]).replace("token=", "token=x"))
    assert conforms(forged, view)["type"] == "/api/v1/problems/viewer-link-invalid"
