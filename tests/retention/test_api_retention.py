"""The API of legal holds and the disposition queue: administrators (records managers) only,
problem+json for what is refused, and the expunge call refusing a held document (409
`legal-hold`)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest

from api.models import ApiKey
from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import Version
from dossier.roles import Role
from retention.scan import scan
from tests.conftest import client_for_key, create_dossier, file_document

HOLD = {"reason": "opposition evidence", "reference": "OPP 2026/17"}
REGISTRY = Actor(label="registry")


@pytest.fixture
def records_manager(db):
    _, key = ApiKey.create("records-manager", Role.ADMIN)
    return client_for_key(key)


@pytest.fixture
def document(dossier):
    return file_document(dossier, type_code="CLM", filename="claims.txt")


def holds_url(dossier) -> str:
    return f"/api/v1/dossiers/{quote(dossier.key, safe='/')}/legal-holds"


def is_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"/api/v1/problems/{slug}"
    return body


def test_a_held_document_is_refused_by_expunge_until_released(records_manager, dossier, document):
    response = records_manager.post(
        holds_url(dossier), HOLD | {"document": str(document.id)}, format="json"
    )
    assert response.status_code == 201
    hold = response.json()
    assert (hold["document"], hold["active"], hold["placed_by"]) == (
        str(document.id),
        True,
        "records-manager",
    )

    order = {"reason": "erasure", "reference": "DPA-1"}
    expunge = f"/api/v1/documents/{document.id}/expunge"
    body = is_problem(records_manager.post(expunge, order, format="json"), 409, "legal-hold")
    assert "OPP 2026/17" in body["detail"]
    assert blobstore.exists(Version.objects.get(document=document).blob_id)

    release = f"/api/v1/legal-holds/{hold['id']}/release"
    is_problem(records_manager.post(release, {}, format="json"), 400, "validation-error")
    released = records_manager.post(release, {"reason": "opposition withdrawn"}, format="json")
    assert released.status_code == 200
    assert (released.json()["active"], released.json()["release_reason"]) == (
        False,
        "opposition withdrawn",
    )
    is_problem(
        records_manager.post(release, {"reason": "again"}, format="json"), 400, "invalid-change"
    )
    assert records_manager.post(expunge, order, format="json").status_code == 200

    listed = records_manager.get(holds_url(dossier)).json()
    assert [h["id"] for h in listed["results"]] == [hold["id"]]


def test_a_hold_on_the_dossier_covers_every_document(records_manager, dossier, document):
    assert records_manager.post(holds_url(dossier), HOLD, format="json").status_code == 201
    response = records_manager.post(
        f"/api/v1/documents/{document.id}/expunge",
        {"reason": "erasure", "reference": "DPA-2"},
        format="json",
    )
    assert "its dossier" in is_problem(response, 409, "legal-hold")["detail"]


def test_holds_need_a_reason_a_reference_and_a_document_of_the_dossier(records_manager, dossier):
    body = is_problem(
        records_manager.post(holds_url(dossier), {"reason": "x"}, format="json"),
        400,
        "validation-error",
    )
    assert body["field"] == "reference"
    elsewhere = file_document(create_dossier("BG/P/2024/000999"), type_code="DESC")
    for stranger in (str(elsewhere.id), "00000000-0000-4000-8000-000000000000"):
        is_problem(
            records_manager.post(holds_url(dossier), HOLD | {"document": stranger}, format="json"),
            404,
            "unknown-document",
        )
    is_problem(
        records_manager.post(
            "/api/v1/legal-holds/00000000-0000-4000-8000-000000000000/release",
            {"reason": "x"},
            format="json",
        ),
        404,
        "not-found",
    )


def test_only_records_managers_hold_and_dispose(public, examiner, registry, dossier, document):
    calls = [
        ("post", holds_url(dossier), HOLD),
        ("get", holds_url(dossier), None),
        ("get", "/api/v1/disposition", None),
        ("post", "/api/v1/disposition/approve", {"items": [1]}),
    ]
    for method, url, data in calls:
        assert getattr(public, method)(url, data, format="json").status_code == 401
        for client in (examiner, registry):
            is_problem(getattr(client, method)(url, data, format="json"), 403, "forbidden")


def test_the_queue_is_listed_and_approved_through_the_api(records_manager, dossier, document):
    actions.record_case_event(dossier, kind="withdrawal", date=dt.date(2019, 6, 3), actor=REGISTRY)
    assert scan(dt.datetime(2024, 6, 3, 12, tzinfo=dt.UTC)).queued == 1
    queue = records_manager.get("/api/v1/disposition").json()["results"]
    assert [(i["document"], i["dossier"], i["due_on"], i["state"]) for i in queue] == [
        (str(document.id), dossier.key, "2024-06-03", "pending")
    ]
    is_problem(records_manager.get("/api/v1/disposition?state=eaten"), 400, "validation-error")
    is_problem(
        records_manager.post("/api/v1/disposition/approve", {"items": []}, format="json"),
        400,
        "validation-error",
    )
    response = records_manager.post(
        "/api/v1/disposition/approve", {"items": [queue[0]["id"], 999999]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"disposed": [queue[0]["id"]], "held": [], "skipped": [999999]}
    assert records_manager.get("/api/v1/disposition").json()["results"] == []
    (done,) = records_manager.get("/api/v1/disposition?state=disposed").json()["results"]
    assert done["decided_by_label"] == "records-manager"
    content = records_manager.get(f"/api/v1/documents/{document.id}/versions/1/content")
    is_problem(content, 410, "content-expunged")
