"""The registry's change feed `GET /api/v1/events?after=<cursor>&limit=`: every change, once,
in cursor order, to the registry system and admins only."""

from __future__ import annotations

import math

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.events import append_event
from dossier.models import DocumentType, Event, EventKind
from tests.conftest import create_dossier

DOSSIER_URL = "/api/v1/dossiers/BG/P/2024/000123"


def feed(client, **params) -> dict:
    response = client.get("/api/v1/events", params)
    assert response.status_code == 200, response.content
    return response.json()


def life_of_a_document(registry) -> str:
    """Drive one of each change through the API; returns the document id."""
    registry.put(DOSSIER_URL, {"ip_type": "patent", "title": "Widget"}, format="json")
    registry.put(DOSSIER_URL, {"status": "examination"}, format="json")
    registered = registry.post(
        f"{DOSSIER_URL}/documents",
        {"file": SimpleUploadedFile("c.txt", b"claims v1"), "type": "CLM"},
        format="multipart",
    ).json()
    document_url = f"/api/v1/documents/{registered['id']}"
    registry.post(
        f"{document_url}/versions",
        {"file": SimpleUploadedFile("c.txt", b"claims v2")},
        format="multipart",
    )
    registry.patch(document_url, {"official_date": "2024-02-02"}, format="json")
    registry.patch(
        document_url, {"state": "cancelled", "cancel_reason": "duplicate"}, format="json"
    )
    return registered["id"]


def test_every_change_appears_in_order(registry):
    document_id = life_of_a_document(registry)
    page = feed(registry)
    events = page["events"]
    assert [e["kind"] for e in events] == [
        "dossier.created",
        "dossier.updated",
        "document.registered",
        "document.version_added",
        "document.updated",
        "document.cancelled",
    ]
    cursors = [int(e["cursor"]) for e in events]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    assert page["has_more"] is False
    assert page["next_cursor"] == events[-1]["cursor"]
    assert {e["dossier"] for e in events} == {"BG/P/2024/123"}
    for event in events[2:]:
        assert event["document"] == document_id
        assert event["payload"]["documentId"] == document_id
        assert event["payload"]["type"] == "CLM"
    assert events[2]["version"] == 1
    assert events[3]["version"] == 2
    assert events[1]["payload"]["fields"] == ["status"]
    assert events[4]["payload"]["fields"] == ["official_date"]
    assert events[5]["payload"]["reason"] == "duplicate"


def test_nothing_new_after_the_last_cursor(registry):
    life_of_a_document(registry)
    last = feed(registry)["next_cursor"]
    page = feed(registry, after=last)
    assert page == {"events": [], "next_cursor": last, "has_more": False}


def test_repeating_the_same_put_adds_no_event(registry):
    registry.put(DOSSIER_URL, {"ip_type": "patent", "title": "Widget"}, format="json")
    cursor = feed(registry)["next_cursor"]
    registry.put(DOSSIER_URL, {"ip_type": "patent", "title": "Widget"}, format="json")
    assert feed(registry, after=cursor)["events"] == []


@pytest.mark.parametrize("limit", [1, 2, 4, 5])
def test_paging_never_skips_or_repeats(registry, limit):
    life_of_a_document(registry)
    life_of_a_document_in(registry, "BG/N/2024/7")
    everything = [e["cursor"] for e in feed(registry, limit=1000)["events"]]
    assert len(everything) == 12

    seen: list[str] = []
    cursor = "0"
    pages = 0
    while True:
        page = feed(registry, after=cursor, limit=limit)
        pages += 1
        assert len(page["events"]) <= limit
        seen += [e["cursor"] for e in page["events"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == everything
    assert pages == math.ceil(len(everything) / limit)  # no empty trailing page


def life_of_a_document_in(registry, key: str) -> None:
    registry.put(f"/api/v1/dossiers/{key}", {"ip_type": "trademark"}, format="json")
    registry.put(f"/api/v1/dossiers/{key}", {"title": "ROSA"}, format="json")
    registered = registry.post(
        f"/api/v1/dossiers/{key}/documents",
        {"file": SimpleUploadedFile("m.png", b"mark"), "type": "MARK"},
        format="multipart",
    ).json()
    document_url = f"/api/v1/documents/{registered['id']}"
    registry.post(
        f"{document_url}/versions",
        {"file": SimpleUploadedFile("m.png", b"mark 2")},
        format="multipart",
    )
    registry.patch(document_url, {"title": "Mark"}, format="json")
    registry.patch(document_url, {"state": "cancelled", "cancel_reason": "x"}, format="json")


def test_events_of_failed_requests_are_not_written(registry):
    registry.put(DOSSIER_URL, {"ip_type": "patent"}, format="json")
    before = Event.objects.count()
    registry.post(
        f"{DOSSIER_URL}/documents",
        {"file": SimpleUploadedFile("c.txt", b"x"), "type": "NOPE"},
        format="multipart",
    )
    registry.put("/api/v1/dossiers/BG/P/2024/9", {"title": "no ip type"}, format="json")
    assert Event.objects.count() == before


def test_admins_may_read_the_feed(admin_client, registry):
    life_of_a_document(registry)
    assert len(feed(admin_client)["events"]) == 6


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["examiner", "records_clerk"])
def test_staff_may_not_read_the_feed(db, request, persona):
    response = request.getfixturevalue(persona).get("/api/v1/events")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/v1/problems/forbidden"


def test_the_public_may_not_read_the_feed(public):
    response = public.get("/api/v1/events")
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"after": "abc"}, "after"), ({"limit": "0"}, "limit"), ({"limit": "5000"}, "limit")],
)
def test_bad_parameters_are_problems(registry, params, field):
    response = registry.get("/api/v1/events", params)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_events_of_a_scan_held_for_qc_stay_hidden_until_it_is_approved(registry):
    """Nothing is announced while a scan is held; should an event of it exist anyway (a records
    clerk reprocessed it), the feed does not show it before the document joins the file."""
    dossier = create_dossier("BG/P/2024/000321")
    staged = blobstore.spool([b"scanned page"], filename="scan.pdf")
    held = actions.attach_document(
        dossier,
        staged,
        doc_type=DocumentType.objects.get(code="CLM"),
        actor=Actor(label="tests"),
        held_for_qc=True,
    ).document
    with transaction.atomic():
        append_event(
            EventKind.DOCUMENT_PROCESSED,
            dossier_key=dossier.key,
            document_id=held.id,
            version=1,
            payload={"documentId": str(held.id)},
        )
    assert [e["kind"] for e in feed(registry)["events"]] == ["dossier.created"]

    actions.approve_scanned_document(held, actor=Actor(label="tests"))
    kinds = [e["kind"] for e in feed(registry)["events"]]
    assert kinds == ["dossier.created", "document.processed", "document.registered"]


def test_the_registry_hears_of_secret_dossiers_it_may_read(registry):
    create_dossier("BG/P/2024/000777", secret=True)
    assert [e["dossier"] for e in feed(registry)["events"]] == ["BG/P/2024/777"]
