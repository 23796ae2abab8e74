"""Saved searches, watched dossiers and notifications over the API: each caller's own, problem
documents for what is refused, the cap on watched dossiers."""

from __future__ import annotations

import pytest

from api.models import ApiKey
from dossier.events import dispatch_to
from dossier.roles import Role
from tests.conftest import client_for_key, create_dossier, file_document, make_user

pytestmark = pytest.mark.django_db

WATCHERS = "watch.dossier_watch.notify_watchers"
PROBLEM = "application/problem+json"


@pytest.fixture
def erika():
    _, key = ApiKey.create("erika-ui", Role.EXAMINER, user=make_user("erika"))
    return client_for_key(key)


@pytest.fixture
def otto():
    _, key = ApiKey.create("otto-ui", Role.EXAMINER, user=make_user("otto"))
    return client_for_key(key)


def test_saved_searches_are_created_listed_and_deleted_by_their_owner(erika, otto):
    created = erika.post(
        "/api/v1/saved-searches",
        {"name": "Sprockets", "params": "q=sprocket&type=CLM&page=2"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["params"] == "q=sprocket&type=CLM"
    assert created["Location"] == f"/api/v1/saved-searches/{body['id']}"

    assert [s["name"] for s in erika.get("/api/v1/saved-searches").json()["results"]] == [
        "Sprockets"
    ]
    assert otto.get("/api/v1/saved-searches").json()["results"] == []
    assert otto.delete(f"/api/v1/saved-searches/{body['id']}").status_code == 404
    assert erika.delete(f"/api/v1/saved-searches/{body['id']}").status_code == 204
    assert erika.get(f"/api/v1/saved-searches/{body['id']}").status_code == 404


def test_a_malformed_saved_search_is_a_problem(erika):
    response = erika.post(
        "/api/v1/saved-searches", {"name": "Broken", "params": 'q="unclosed'}, format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["field"] == "q"


def test_the_public_may_not(public):
    response = public.get("/api/v1/notifications")
    assert response.status_code == 401 and response["Content-Type"] == PROBLEM


def test_watching_over_the_api_notifies_and_is_capped(erika, settings):
    settings.EDMS_WATCH_MAX_DOSSIERS = 1
    dossier = create_dossier("BG/P/2024/31")
    create_dossier("BG/P/2024/32")
    watched = erika.post("/api/v1/watches", {"dossier": "BG/P/2024/31"}, format="json")
    assert watched.status_code == 201 and watched.json()["dossier"] == "BG/P/2024/000031"

    refused = erika.post("/api/v1/watches", {"dossier": "BG/P/2024/32"}, format="json")
    assert refused.status_code == 400 and refused["Content-Type"] == PROBLEM
    assert "You watch 1 dossier, the most one person may" in refused.json()["detail"]
    unknown = erika.post("/api/v1/watches", {"dossier": "BG/P/2024/99"}, format="json")
    assert unknown.status_code == 404

    document = file_document(dossier)
    dispatch_to(WATCHERS)
    listed = erika.get("/api/v1/notifications", {"unread": "true"}).json()["results"]
    assert [(n["kind"], n["document_id"], n["dossier"]) for n in listed] == [
        ("document.registered", str(document.id), "BG/P/2024/000031")
    ]
    assert listed[0]["text"] == "A new document was filed in BG/P/2024/000031."
    marked = erika.post("/api/v1/notifications/read", {}, format="json")
    assert marked.json() == {"marked": 1}
    assert erika.get("/api/v1/notifications", {"unread": "true"}).json()["results"] == []
    assert erika.delete(f"/api/v1/notifications/{listed[0]['id']}").status_code == 204

    assert erika.delete(f"/api/v1/watches/{watched.json()['id']}").status_code == 204
    assert erika.get("/api/v1/watches").json()["results"] == []


def test_the_notification_list_costs_the_same_for_one_or_many(erika, django_assert_max_num_queries):
    dossier = create_dossier("BG/P/2024/33")
    erika.post("/api/v1/watches", {"dossier": "BG/P/2024/33"}, format="json")
    erika.post("/api/v1/saved-searches", {"name": "All", "params": "q=x"}, format="json")
    for _ in range(20):
        file_document(dossier)
    dispatch_to(WATCHERS)
    erika.get("/api/v1/notifications")  # warm caches (content types, permissions)
    with django_assert_max_num_queries(5):
        listed = erika.get("/api/v1/notifications").json()
    assert listed["count"] == 20
