"""`POST /api/v1/documents/{id}/paper-original`: the paper original marked as received."""

from __future__ import annotations

import pytest

from dossier.models import AuditEvent, Document
from tests.conftest import create_dossier, file_document


def problem_type(response) -> str:
    assert response["Content-Type"] == "application/problem+json", response.content
    return response.json()["type"].rsplit("/", 1)[-1]


@pytest.fixture
def document(db):
    return file_document(create_dossier(), type_code="REQ", visibility="public")


def url(document) -> str:
    return f"/api/v1/documents/{document.id}/paper-original"


def test_marking_the_paper_original_shows_it_in_the_document(records_clerk, registry, document):
    before = registry.get(f"/api/v1/documents/{document.id}").json()
    assert before["paper_original"] == {"received_on": None, "location": "", "note": ""}
    assert before["paper_original_expected"] is True

    body = {"received_on": "2024-03-04", "location": "Archive B, shelf 12", "note": "signed"}
    response = records_clerk.post(url(document), body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["paper_original"] == {
        "received_on": "2024-03-04",
        "location": "Archive B, shelf 12",
        "note": "signed",
    }
    after = registry.get(f"/api/v1/documents/{document.id}").json()
    assert after["paper_original"]["received_on"] == "2024-03-04"
    audit = AuditEvent.objects.get(action="document.paper_original")
    assert audit.actor.username == "rico"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "received_on"),
        ({"received_on": "04.03.2024"}, "received_on"),
        ({"received_on": "2999-01-01"}, "received_on"),
        ({"received_on": "2024-03-04", "location": "x" * 201}, "location"),
    ],
)
def test_bad_input_is_a_problem_and_changes_nothing(records_clerk, document, body, field):
    response = records_clerk.post(url(document), body, format="json")
    assert response.status_code == 400, response.content
    assert problem_type(response) in ("validation-error", "invalid-change")
    assert response.json()["field"] == field
    assert Document.objects.get(id=document.id).paper_received_on is None


def test_who_may_mark_it(public, examiner, document):
    body = {"received_on": "2024-03-04"}
    assert public.post(url(document), body, format="json").status_code == 401
    hidden = file_document(document.dossier, visibility="internal")
    assert examiner.post(url(hidden), body, format="json").status_code == 200
    unknown = "/api/v1/documents/00000000-0000-4000-8000-000000000000/paper-original"
    assert problem_type(examiner.post(unknown, body, format="json")) == "unknown-document"


def test_a_cancelled_document_is_a_409(registry, document):
    registry.patch(
        f"/api/v1/documents/{document.id}",
        {"state": "cancelled", "cancel_reason": "twice"},
        format="json",
    )
    response = registry.post(url(document), {"received_on": "2024-03-04"}, format="json")
    assert response.status_code == 409
    assert problem_type(response) == "document-cancelled"


def test_answers_and_problems_conform_to_the_openapi_schema(records_clerk, document, conforms):
    template = "/api/v1/documents/{document_id}/paper-original"
    marked = records_clerk.post(url(document), {"received_on": "2024-03-04"}, format="json")
    assert marked.status_code == 200
    assert conforms(marked, template)["paper_original"]["received_on"] == "2024-03-04"
    future = records_clerk.post(url(document), {"received_on": "2999-01-01"}, format="json")
    assert conforms(future, template)["field"] == "received_on"
    unknown = "/api/v1/documents/00000000-0000-4000-8000-000000000000/paper-original"
    missing = records_clerk.post(unknown, {"received_on": "2024-03-04"}, format="json")
    assert conforms(missing, template)["type"] == "/api/v1/problems/unknown-document"
