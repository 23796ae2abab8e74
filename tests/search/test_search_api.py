"""`GET /api/v1/search` with the personas: what each may find, the shape, and clear errors.

Documents are filed through the actions and indexed by the real indexer; the API is called over
DRF's test client as an integrator would.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from api.models import ApiKey
from dossier.roles import Role
from search import indexer
from tests.conftest import client_for_key, create_dossier, file_document
from tests.factories import UserFactory
from tests.search_support import give_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def cabinet(search_backend):
    """A published dossier with a public and a confidential document, an unpublished dossier,
    and a published dossier under a secrecy order; all mention "sprocket"."""
    published = create_dossier(
        "BG/P/2023/1", published_at=timezone.localdate() - dt.timedelta(days=1)
    )
    unpublished = create_dossier("BG/P/2024/2", title="Unpublished chain drive")
    secret = create_dossier("BG/P/2024/3", published_at=timezone.localdate(), secret=True)
    documents = {
        "public": file_document(published, type_code="DESC", official_date=dt.date(2023, 2, 1)),
        "confidential": file_document(
            published, visibility="confidential", official_date=dt.date(2023, 6, 1)
        ),
        "unpublished": file_document(unpublished, official_date=dt.date(2024, 5, 1)),
        "secret": file_document(secret),
    }
    texts = {
        "public": "The sprocket <drives> the chain & the wheel. Une roue dentée.",
        "confidential": "sprocket tolerances: classified margin notes",
        "unpublished": "sprocket with hardened teeth, not yet public",
        "secret": "sprocket for a military drive, classified",
    }
    for name, document in documents.items():
        give_text(document, texts[name], languages=["en"])
    indexer.sync()
    return {name: str(document.id) for name, document in documents.items()}


def search(client, **params) -> dict:
    response = client.get("/api/v1/search", params)
    assert response.status_code == 200, response.content
    return response.json()


def found(body) -> set[str]:
    return {r["document"] for r in body["results"]}


def facet_total(body, name: str) -> int:
    return sum(item["count"] for item in body["facets"][name])


def test_public_never_sees_unpublished_or_confidential(public, cabinet):
    body = search(public, q="sprocket")
    assert found(body) == {cabinet["public"]}
    assert body["count"] == 1
    for name in ("type", "direction", "year", "ip_type", "status", "language"):
        assert facet_total(body, name) <= 1
    assert body["facets"]["type"] == [{"value": "DESC", "count": 1}]
    snippets = " ".join(s for r in body["results"] for s in r["snippets"])
    assert "classified" not in snippets and "hardened" not in snippets
    for word in ("classified", "hardened", "tolerances", "military"):
        nothing = search(public, q=word)
        assert nothing["count"] == 0 and nothing["results"] == []
        assert all(facet_total(nothing, name) == 0 for name in nothing["facets"])


def test_examiners_see_the_rest_but_not_secrets_without_clearance(examiner, cabinet):
    body = search(examiner, q="sprocket")
    assert found(body) == {cabinet["public"], cabinet["confidential"], cabinet["unpublished"]}
    assert body["count"] == 3
    assert search(examiner, q="military")["count"] == 0


def test_secret_dossiers_need_the_clearance(cabinet):
    user = UserFactory(role=Role.EXAMINER, secret_clearance=True)
    _, key = ApiKey.create("cleared", Role.EXAMINER, user=user)
    body = search(client_for_key(key), q="military")
    assert found(body) == {cabinet["secret"]}


def test_records_clerks_and_the_registry(records_clerk, registry, cabinet):
    assert search(records_clerk, q="military")["count"] == 0
    assert search(registry, q="military")["count"] == 1


def test_result_shape_snippets_and_facets(examiner, cabinet):
    body = search(examiner, q="sprockets wheel")
    (hit,) = body["results"]
    assert hit["document"] == cabinet["public"]
    assert hit["dossier"] == "BG/P/2023/000001"
    assert hit["type"] == "DESC"
    assert hit["version"] == 1
    assert hit["official_date"] == "2023-02-01"
    (snippet,) = hit["snippets"]
    assert "<mark>sprocket</mark>" in snippet and "<mark>wheel</mark>" in snippet
    assert "&lt;drives&gt;" in snippet and "&amp;" in snippet
    assert set(body["facets"]) == {"ip_type", "type", "direction", "year", "language", "status"}


def test_filters_sort_and_pages(examiner, cabinet):
    assert found(search(examiner, q="sprocket", dossier="BG/P/2024/000002")) == {
        cabinet["unpublished"]
    }
    assert found(search(examiner, q="sprocket", type="DESC,OA")) == {cabinet["public"]}
    assert found(search(examiner, q="sprocket", year="2024")) == {cabinet["unpublished"]}
    in_2023 = search(examiner, q="sprocket", date_from="2023-01-01", date_to="2023-03-31")
    assert found(in_2023) == {cabinet["public"]}
    by_date = search(examiner, q="sprocket", sort="date", page_size=2)
    assert by_date["count"] == 3 and len(by_date["results"]) == 2
    assert by_date["results"][0]["document"] == cabinet["unpublished"]
    last = search(examiner, q="sprocket", sort="date", page_size=2, page=2)
    assert len(last["results"]) == 1
    everything = search(examiner)  # no query: every readable document, filters still apply
    assert everything["count"] == 3


@pytest.mark.parametrize(
    "query",
    [
        '"unclosed phrase',
        "(sprocket",
        "sprocket)",
        "AND sprocket",
        "sprocket OR",
        "NOT",
        "type:",
        "nosuchfield:x",
        "date:2021-13-01",
        "date:2022..2021",
        "direction:sideways",
        "spr*cket",
        "word~7",
        "dossier:XX",
        "()",
        "x" * 3000,
    ],
)
def test_malformed_queries_are_a_clear_400(examiner, cabinet, query):
    response = examiner.get("/api/v1/search", {"q": query})
    assert response.status_code == 400, response.content
    problem = response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    assert problem["type"] == "/api/v1/problems/invalid-query"
    assert problem["field"] == "q"
    assert problem["detail"]


@pytest.mark.parametrize("query", ["براءة", "изобретение", "专利", "特許", "Ünïcödé sprocket"])
def test_unicode_queries_are_answered(examiner, cabinet, query):
    assert examiner.get("/api/v1/search", {"q": query}).status_code == 200


def test_bad_parameters_are_validation_errors(examiner, cabinet):
    response = examiner.get("/api/v1/search", {"q": "x", "sort": "size", "page": "0"})
    assert response.status_code == 400
    assert response.json()["type"] == "/api/v1/problems/validation-error"


def test_the_openapi_schema_describes_search(examiner):
    schema = examiner.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/search"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"q", "dossier", "type", "sort", "page"} <= names
    assert "400" in operation["responses"]
    assert "/api/v1/search/status" in schema["paths"]
