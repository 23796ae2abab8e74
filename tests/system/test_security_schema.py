"""Issue 10: the OpenAPI schema says what the API really answers.

Found by generated requests: content was declared `application/octet-stream` but answered in its
own media type, and 401/403/404/406/416 answers that happen were not declared. Each test sends a
real request and checks that its status and media type are documented for the operation in the
schema the server serves (tests/system/test_schemathesis.py then checks every operation at large).
"""

from __future__ import annotations

import re

import pytest

from api.problems import PROBLEM_CONTENT_TYPE
from dossier.roles import Role
from tests.conftest import client_for_key
from tests.factories import DocumentFactory, DossierFactory, UserFactory

KEY = "BG/P/2024/000123"
UUID = "00000000-0000-4000-8000-000000000000"


def _media_type_matches(declared: str, received: str) -> bool:
    declared_main, _, declared_sub = declared.partition("/")
    received_main, _, received_sub = received.split(";")[0].strip().partition("/")
    return declared_main in ("*", received_main) and declared_sub in ("*", received_sub)


def assert_documented(schema_document: dict, template: str, method: str, response) -> None:
    """The response's status, and its media type, are declared for the operation."""
    operation = schema_document["paths"][template][method]
    status = str(response.status_code)
    assert status in operation["responses"], (
        f"{method.upper()} {template} answered {status}, "
        f"documented: {sorted(operation['responses'])}"
    )
    declared = list(operation["responses"][status].get("content", {}))
    if not declared:
        return
    received = response["Content-Type"]
    assert any(_media_type_matches(option, received) for option in declared), (
        f"{method.upper()} {template} {status} answered {received}, documented: {declared}"
    )
    if received.startswith(PROBLEM_CONTENT_TYPE):
        schema = operation["responses"][status]["content"][PROBLEM_CONTENT_TYPE]["schema"]
        assert schema == {"$ref": "#/components/schemas/Problem"}


def concrete(template: str, document_id: str = UUID) -> str:
    values = {
        "key": KEY,
        "document_id": document_id,
        "number": "1",
        "kind": "pdf",
        "batch_id": UUID,
        "part_id": UUID,
        "session_id": UUID,
        "operation": "approve",
        "webhook_id": "1",
        "delivery_id": UUID,
        "search_id": "1",
        "watch_id": "1",
        "notification_id": "1",
        "upload_id": UUID,
        "annotation_id": UUID,
        "hold_id": UUID,
        "applicationNumberText": "24000123",  # the USPTO-shaped reads (exchange.uspto_odp)
        "documentIdentifier": UUID,
        "request_id": UUID,
        "flag_id": "1",
    }
    return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], template)


@pytest.mark.django_db
def test_content_is_declared_in_the_media_type_it_is_answered_in(registry, schema_document):
    document = DocumentFactory(dossier=DossierFactory(key=KEY), content=b"1. A widget.")
    for template in (
        "/api/v1/documents/{document_id}/content",
        "/api/v1/documents/{document_id}/versions/{number}/content",
    ):
        response = registry.get(concrete(template, str(document.id)))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        assert_documented(schema_document, template, "get", response)


def test_renditions_declare_the_media_types_they_are_made_in(schema_document):
    template = "/api/v1/documents/{document_id}/versions/{number}/renditions/{kind}"
    responses = schema_document["paths"][template]["get"]["responses"]
    assert set(responses["200"]["content"]) == {"application/pdf", "image/png"}


@pytest.mark.django_db
def test_a_range_outside_the_content_is_a_documented_416(registry, schema_document):
    document = DocumentFactory(dossier=DossierFactory(key=KEY), content=b"1. A widget.")
    template = "/api/v1/documents/{document_id}/content"
    response = registry.get(concrete(template, str(document.id)), HTTP_RANGE="bytes=500-")
    assert response.status_code == 416
    assert_documented(schema_document, template, "get", response)


@pytest.mark.django_db
def test_versions_of_an_unknown_document_is_a_documented_404(registry, schema_document):
    template = "/api/v1/documents/{document_id}/versions"
    response = registry.get(concrete(template))
    assert response.status_code == 404
    assert_documented(schema_document, template, "get", response)


@pytest.mark.django_db
def test_scan_batches_refused_to_the_registry_is_a_documented_403(registry, schema_document):
    response = registry.get("/api/v1/scan-batches")
    assert response.status_code == 403
    assert_documented(schema_document, "/api/v1/scan-batches", "get", response)


@pytest.mark.django_db
def test_every_operation_documents_the_401_of_a_wrong_api_key(schema_document):
    calls = [(t, m) for t, operations in schema_document["paths"].items() for m in operations]
    for number, (template, method) in enumerate(calls):
        # One wrong key from one address each: a rate limit of failed attempts stays out of it.
        stranger = client_for_key(f"edms_{number:08x}_not-a-key")
        address = f"192.0.2.{number + 1}"  # TEST-NET-1: only a value of REMOTE_ADDR
        response = getattr(stranger, method)(concrete(template), REMOTE_ADDR=address)
        assert response.status_code == 401, (method, template, response.content)
        assert_documented(schema_document, template, method, response)


@pytest.mark.django_db
def test_an_unsatisfiable_accept_header_is_a_documented_406(registry, schema_document):
    response = registry.get("/api/v1/dossiers", HTTP_ACCEPT="application/xml")
    assert response.status_code == 406
    assert_documented(schema_document, "/api/v1/dossiers", "get", response)


def test_search_unavailable_is_a_problem_document(schema_document):
    responses = schema_document["paths"]["/api/v1/search"]["get"]["responses"]
    assert list(responses["503"]["content"]) == [PROBLEM_CONTENT_TYPE]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/events?after=%C2%B2", "after"),  # "²" is a digit to str.isdigit, not to int()
        ("/api/v1/events?limit=%C2%B2", "limit"),
        ("/api/v1/scan-batches/stats?days=%C2%B2", "days"),
    ],
)
def test_numbers_that_are_not_numbers_are_a_400(admin_client, schema_document, path, field):
    response = admin_client.get(path)
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert_documented(schema_document, path.split("?")[0], "get", response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v1/dossiers?q=wid%00get", "/api/v1/dossiers"),
        ("/api/v1/dossiers?status=%00", "/api/v1/dossiers"),
        ("/api/v1/search?type=CLM%00", "/api/v1/search"),
        ("/api/v1/dossiers/BG/P/2024/1%00", "/api/v1/dossiers/{key}"),
    ],
)
def test_a_nul_character_in_the_url_is_a_400(registry, schema_document, path, template):
    # PostgreSQL cannot hold U+0000 in text: it must be refused before any query, not fail in one.
    response = registry.get(path)
    assert response.status_code == 400, response.content
    assert "NUL" in response.json()["detail"]
    assert_documented(schema_document, template, "get", response)


@pytest.mark.django_db
@pytest.mark.parametrize("applicants", [["ACME\u0000"], [{"name": "ACME", "\u0000": 1}]])
def test_a_nul_character_in_json_data_is_a_400(registry, schema_document, applicants):
    response = registry.put(
        f"/api/v1/dossiers/{KEY}", {"ip_type": "patent", "applicants": applicants}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["field"].startswith("applicants")
    assert_documented(schema_document, "/api/v1/dossiers/{key}", "put", response)


@pytest.mark.django_db
@pytest.mark.parametrize("year", ["%C2%B2", "99999"])
def test_a_filing_year_that_is_no_year_is_ignored_by_the_dossier_list(client, year):
    DossierFactory(key=KEY, filing_date="2024-01-15", published_at="2024-07-01")
    response = client.get(f"/?year={year}")
    assert response.status_code == 200
    assert b"BG/P/2024/000123" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["viewer", "dashboard", "cover sheets"])
def test_ui_numbers_that_int_refuses_fall_back_to_defaults(client, page):
    client.force_login(UserFactory(username="rico", role=Role.RECORDS_CLERK))
    if page == "viewer":
        document = DocumentFactory(dossier=DossierFactory(key=KEY))
        response = client.get(f"/documents/{document.id}?page=%C2%B2")
    elif page == "dashboard":
        response = client.get("/scanning?days=%C2%B2")
    else:
        response = client.post("/scanning/cover-sheets", {"separator": "1", "separators": "²"})
        assert response["Content-Type"] == "application/pdf"
    assert response.status_code == 200


@pytest.mark.django_db
def test_quality_control_operations_are_named_and_post_to_content_is_a_documented_405(
    admin_client, schema_document
):
    template = "/api/v1/scan-parts/{part_id}/{operation}"
    operation = schema_document["paths"][template]["post"]
    named = next(p for p in operation["parameters"] if p["name"] == "operation")
    assert "approve" in named["schema"]["enum"]
    assert "content" not in named["schema"]["enum"]
    response = admin_client.post(f"/api/v1/scan-parts/{UUID}/content", {}, format="json")
    assert response.status_code == 405
    assert_documented(schema_document, template, "post", response)
