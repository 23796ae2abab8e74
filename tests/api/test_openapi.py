"""The OpenAPI document is valid, complete, and tells the truth about real responses.

Responses of the main endpoints are validated against the schema the server itself serves
(openapi-core, `conforms` of tests/openapi_support.py), so a serializer change that the schema
does not follow fails here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from openapi_spec_validator import validate as validate_spec

from tests.factories import DocumentFactory, DossierFactory

KEY = "BG/P/2024/000123"

# Every operation issue #2 names: (path template, method).
OPERATIONS = [
    ("/api/v1/dossiers", "get"),
    ("/api/v1/dossiers/{key}", "get"),
    ("/api/v1/dossiers/{key}", "put"),
    ("/api/v1/dossiers/{key}/documents", "get"),
    ("/api/v1/dossiers/{key}/documents", "post"),
    ("/api/v1/documents/{document_id}", "get"),
    ("/api/v1/documents/{document_id}", "patch"),
    ("/api/v1/documents/{document_id}/versions", "post"),
    ("/api/v1/documents/{document_id}/content", "get"),
    ("/api/v1/documents/{document_id}/versions/{number}/content", "get"),
    ("/api/v1/events", "get"),
    ("/api/v1/dossiers/{key}/export", "get"),
]

# Every operation issue #15 adds.
ISSUE_15_OPERATIONS = [
    ("/api/v1/uploads", "options"),
    ("/api/v1/uploads", "post"),
    ("/api/v1/uploads/{upload_id}", "head"),
    ("/api/v1/uploads/{upload_id}", "patch"),
    ("/api/v1/uploads/{upload_id}", "delete"),
    ("/api/v1/dossiers/{key}/case-events", "get"),
    ("/api/v1/dossiers/{key}/case-events", "post"),
    ("/api/v1/documents/{document_id}/versions/{number}/redacted", "put"),
    ("/api/v1/documents/{document_id}/versions/{number}/redacted", "get"),
    ("/api/v1/documents/{document_id}/versions/{number}/restore", "post"),
    ("/api/v1/documents/{document_id}/expunge", "post"),
    ("/api/v1/documents/{document_id}/cover-sheet", "get"),
    ("/api/v1/documents/{document_id}/viewer-link", "post"),
    ("/api/v1/documents/{document_id}/view", "get"),
    ("/api/v1/documents/{document_id}/paper-original", "post"),
    ("/api/v1/exports/publication-batch", "get"),
    ("/api/v1/documents/{document_id}/versions/{number}/text", "get"),
]


def test_schema_is_a_valid_openapi_3_document(schema_document):
    assert schema_document["openapi"].startswith("3.")
    validate_spec(schema_document)


@pytest.mark.parametrize("operations", [OPERATIONS, ISSUE_15_OPERATIONS], ids=["2", "15"])
def test_schema_has_every_operation_of_the_issue(schema_document, operations):
    paths = schema_document["paths"]
    missing = [(path, method) for path, method in operations if method not in paths.get(path, {})]
    assert not missing


def test_schema_names_bearer_authentication(schema_document):
    schemes = schema_document["components"]["securitySchemes"]
    assert any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values())


def test_schema_says_errors_are_problem_documents(schema_document):
    responses = schema_document["paths"]["/api/v1/dossiers/{key}"]["put"]["responses"]
    for status in ("400", "401", "403", "404", "415"):
        assert "application/problem+json" in responses[status]["content"], status


def test_schema_as_yaml_and_docs_page(public):
    schema = public.get("/api/v1/schema")
    assert schema.status_code == 200
    assert schema.content.startswith(b"openapi: 3.")
    docs = public.get("/api/v1/docs")
    assert docs.status_code == 200
    assert docs["Content-Type"].startswith("text/html")
    # The page loads its start-up script from the same URL (no inline script, see the CSP).
    script = public.get("/api/v1/docs?script=")
    assert b"/api/v1/schema" in script.content


@pytest.mark.django_db
def test_dossier_responses_conform(registry, conforms):
    created = registry.put(
        f"/api/v1/dossiers/{KEY}",
        {
            "ip_type": "patent",
            "title": "Widget",
            "applicants": [{"name": "ACME"}],
            "filing_date": "2024-01-15",
            "priority_claims": [{"country": "DE", "number": "10 2023 1", "date": "2023-01-16"}],
        },
        format="json",
    )
    assert created.status_code == 201
    assert conforms(created, "/api/v1/dossiers/{key}")["key"] == KEY
    updated = registry.put(f"/api/v1/dossiers/{KEY}", {"status": "filed"}, format="json")
    assert updated.status_code == 200
    conforms(updated, "/api/v1/dossiers/{key}")
    conforms(registry.get(f"/api/v1/dossiers/{KEY}"), "/api/v1/dossiers/{key}")
    listing = conforms(registry.get("/api/v1/dossiers"), "/api/v1/dossiers")
    assert listing["count"] == 1


@pytest.mark.django_db
def test_document_responses_conform(registry, conforms):
    DossierFactory(key=KEY)
    registered = registry.post(
        f"/api/v1/dossiers/{KEY}/documents",
        {
            "file": SimpleUploadedFile("claims.txt", b"1. A widget.", content_type="text/plain"),
            "type": "CLM",
            "direction": "in",
            "official_date": "2024-03-01",
            "channel": "efiling",
            "visibility": "public_after_publication",
            "title": "Claims",
            "registry_id": "IPAS-77",
        },
        format="multipart",
    )
    assert registered.status_code == 201, registered.content
    body = conforms(registered, "/api/v1/dossiers/{key}/documents")
    assert body["sha256"] == hashlib.sha256(b"1. A widget.").hexdigest()
    document_url = f"/api/v1/documents/{body['id']}"

    version = registry.post(
        f"{document_url}/versions",
        b"1. A better widget.",
        content_type="text/plain",
        HTTP_X_FILENAME="claims-v2.txt",
    )
    assert version.status_code == 201, version.content
    assert conforms(version, "/api/v1/documents/{document_id}/versions")["version"] == 2

    detail = conforms(registry.get(document_url), "/api/v1/documents/{document_id}")
    assert [v["number"] for v in detail["versions"]] == [1, 2]
    patched = registry.patch(
        document_url, {"state": "cancelled", "cancel_reason": "filed twice"}, format="json"
    )
    assert conforms(patched, "/api/v1/documents/{document_id}")["state"] == "cancelled"

    listing = conforms(
        registry.get(f"/api/v1/dossiers/{KEY}/documents"), "/api/v1/dossiers/{key}/documents"
    )
    assert listing["results"][0]["latest"]["number"] == 2


@pytest.mark.django_db
def test_file_wrapper_with_an_annex_and_an_undated_document_conforms(registry, conforms):
    dossier = DossierFactory(key=KEY)
    parent = DocumentFactory(dossier=dossier, official_date=None)
    DocumentFactory(dossier=dossier, parent=parent, type_code="DRW", filename="fig1.png")
    listing = conforms(
        registry.get(f"/api/v1/dossiers/{KEY}/documents"), "/api/v1/dossiers/{key}/documents"
    )
    assert {item["parent"] for item in listing["results"]} == {None, str(parent.id)}


@pytest.mark.django_db
def test_event_feed_conforms(registry, conforms):
    dossier = DossierFactory(key=KEY)
    DocumentFactory(dossier=dossier, official_date=dt.date(2024, 2, 1))
    page = conforms(registry.get("/api/v1/events"), "/api/v1/events")
    assert [event["kind"] for event in page["events"]] == [
        "dossier.created",
        "document.registered",
    ]
    assert page["events"][0]["document"] is None


@pytest.mark.django_db
def test_problem_responses_conform(registry, public, examiner, conforms):
    template = "/api/v1/dossiers/{key}"
    conforms(registry.get("/api/v1/dossiers/BG/P/2024/404"), template)
    conforms(registry.get("/api/v1/dossiers/BG/P/20x4/1"), template)
    conforms(public.put(f"/api/v1/dossiers/{KEY}", {"ip_type": "patent"}, format="json"), template)
    conforms(
        examiner.put(f"/api/v1/dossiers/{KEY}", {"ip_type": "patent"}, format="json"), template
    )
    invalid = registry.put(f"/api/v1/dossiers/{KEY}", {"ip_type": "spaceship"}, format="json")
    assert conforms(invalid, template)["errors"]


@pytest.mark.django_db
def test_export_is_a_zip_and_its_problems_conform(registry, conforms, schema_document):
    operation = schema_document["paths"]["/api/v1/dossiers/{key}/export"]["get"]
    assert "application/zip" in operation["responses"]["200"]["content"]
    parameters = {p["name"] for p in operation["parameters"]}
    assert {"type", "versions", "renditions", "include_cancelled", "date_from"} <= parameters
    template = "/api/v1/dossiers/{key}/export"
    DossierFactory(key=KEY)
    response = registry.get(f"/api/v1/dossiers/{KEY}/export")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    b"".join(response.streaming_content)
    conforms(registry.get("/api/v1/dossiers/BG/P/2024/404/export"), template)
    invalid = registry.get(f"/api/v1/dossiers/{KEY}/export", {"versions": "some"})
    assert invalid.status_code == 400
    assert conforms(invalid, template)["errors"]


@pytest.mark.django_db
def test_webhook_responses_conform(registry, conforms):
    created = registry.post(
        "/api/v1/webhooks",
        {"url": "https://ipas.example.org/hook", "kinds": ["document.registered"]},
        format="json",
    )
    assert created.status_code == 201
    hook = conforms(created, "/api/v1/webhooks")
    detail = f"/api/v1/webhooks/{hook['id']}"
    conforms(registry.get("/api/v1/webhooks"), "/api/v1/webhooks")
    conforms(registry.get(detail), "/api/v1/webhooks/{webhook_id}")
    conforms(
        registry.patch(detail, {"description": "IPAS"}, format="json"),
        "/api/v1/webhooks/{webhook_id}",
    )
    conforms(registry.post(f"{detail}/secret"), "/api/v1/webhooks/{webhook_id}/secret")
    ping = conforms(registry.post(f"{detail}/ping"), "/api/v1/webhooks/{webhook_id}/ping")
    assert ping["kind"] == "ping"
    listing = conforms(
        registry.get(f"{detail}/deliveries"), "/api/v1/webhooks/{webhook_id}/deliveries"
    )
    assert [d["id"] for d in listing] == [ping["id"]]
    redelivered = registry.post(f"{detail}/deliveries/{ping['id']}/redeliver")
    conforms(redelivered, "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
    refused = registry.post("/api/v1/webhooks", {"url": "ftp://x.example/"}, format="json")
    assert conforms(refused, "/api/v1/webhooks")["field"] == "url"


# A fresh process (nothing generated yet) where eight threads ask for the schema at once, as the
# docs page and a client do on a web worker's first requests.
CONCURRENT_FIRST_SCHEMA = """
import threading

import django

django.setup()
from django.test import RequestFactory
from django.urls import resolve

view = resolve("/api/v1/schema").func
start = threading.Barrier(8)
statuses = []


def ask():
    request = RequestFactory().get("/api/v1/schema", {"format": "json"})
    start.wait()
    statuses.append(view(request).render().status_code)


threads = [threading.Thread(target=ask) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(sorted(statuses))
"""


def test_the_first_schema_requests_of_a_fresh_process_all_succeed(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "edms.settings", "EDMS_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", CONCURRENT_FIRST_SCHEMA],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == str([200] * 8), done.stderr[-3000:]
