"""Saved searches, watched dossiers and notifications over the API: each caller's own, problem
documents for what is refused, the cap on watched dossiers."""

from __future__ import annotations

import pytest

from dossier.events import dispatch_to
from tests.conftest import create_dossier, file_document

pytestmark = pytest.mark.django_db

WATCHERS = "watch.dossier_watch.notify_watchers"
PROBLEM = "application/problem+json"


def test_saved_searches_are_created_listed_and_deleted_by_their_owner(examiner, other_examiner):
    created = examiner.post(
        "/api/v1/saved-searches",
        {"name": "Sprockets", "params": "q=sprocket&type=CLM&page=2"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["params"] == "q=sprocket&type=CLM"
    assert created["Location"] == f"/api/v1/saved-searches/{body['id']}"

    assert [s["name"] for s in examiner.get("/api/v1/saved-searches").json()["results"]] == [
        "Sprockets"
    ]
    assert other_examiner.get("/api/v1/saved-searches").json()["results"] == []
    assert other_examiner.delete(f"/api/v1/saved-searches/{body['id']}").status_code == 404
    assert examiner.delete(f"/api/v1/saved-searches/{body['id']}").status_code == 204
    assert examiner.get(f"/api/v1/saved-searches/{body['id']}").status_code == 404


def test_a_malformed_saved_search_is_a_problem(examiner):
    response = examiner.post(
        "/api/v1/saved-searches", {"name": "Broken", "params": 'q="unclosed'}, format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["field"] == "q"


def test_the_public_may_not(public):
    response = public.get("/api/v1/notifications")
    assert response.status_code == 401 and response["Content-Type"] == PROBLEM


def test_watching_over_the_api_notifies_and_is_capped(examiner, settings):
    settings.EDMS_WATCH_MAX_DOSSIERS = 1
    dossier = create_dossier("BG/P/2024/31")
    create_dossier("BG/P/2024/32")
    watched = examiner.post("/api/v1/watches", {"dossier": "BG/P/2024/31"}, format="json")
    assert watched.status_code == 201 and watched.json()["dossier"] == "BG/P/2024/000031"

    refused = examiner.post("/api/v1/watches", {"dossier": "BG/P/2024/32"}, format="json")
    assert refused.status_code == 400 and refused["Content-Type"] == PROBLEM
    assert "You watch 1 dossier, the most one person may" in refused.json()["detail"]
    unknown = examiner.post("/api/v1/watches", {"dossier": "BG/P/2024/99"}, format="json")
    assert unknown.status_code == 404

    document = file_document(dossier)
    dispatch_to(WATCHERS)
    listed = examiner.get("/api/v1/notifications", {"unread": "true"}).json()["results"]
    assert [(n["kind"], n["document_id"], n["dossier"]) for n in listed] == [
        ("document.registered", str(document.id), "BG/P/2024/000031")
    ]
    assert listed[0]["text"] == "A new document was filed in BG/P/2024/000031."
    marked = examiner.post("/api/v1/notifications/read", {}, format="json")
    assert marked.json() == {"marked": 1}
    assert examiner.get("/api/v1/notifications", {"unread": "true"}).json()["results"] == []
    assert examiner.delete(f"/api/v1/notifications/{listed[0]['id']}").status_code == 204

    assert examiner.delete(f"/api/v1/watches/{watched.json()['id']}").status_code == 204
    assert examiner.get("/api/v1/watches").json()["results"] == []


def test_the_notification_list_costs_the_same_for_one_or_many(
    examiner, django_assert_max_num_queries
):
    dossier = create_dossier("BG/P/2024/33")
    examiner.post("/api/v1/watches", {"dossier": "BG/P/2024/33"}, format="json")
    examiner.post("/api/v1/saved-searches", {"name": "All", "params": "q=x"}, format="json")
    for _ in range(20):
        file_document(dossier)
    dispatch_to(WATCHERS)
    examiner.get("/api/v1/notifications")  # warm caches (content types, permissions)
    with django_assert_max_num_queries(5):
        listed = examiner.get("/api/v1/notifications").json()
    assert listed["count"] == 20
