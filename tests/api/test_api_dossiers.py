"""`PUT/GET /api/v1/dossiers/{key}` and the dossier list, through the public HTTP surface."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

import pytest

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import Dossier, Event, EventKind
from tests.conftest import create_dossier, file_document

KEY = "BG/P/2024/000123"
CYRILLIC_KEY = "BG/Д/2023/17"


def url(key: str) -> str:
    # Slashes stay path separators; anything non-ASCII is percent-encoded as a client would.
    return f"/api/v1/dossiers/{quote(key, safe='/')}"


def put(client, key: str, body: dict, **headers):
    return client.put(url(key), body, format="json", **headers)


PATENT = {
    "ip_type": "patent",
    "title": "Widget with a handle",
    "applicants": ["Acme Ltd", "Иван Петров"],
    "filing_date": "2024-01-15",
    "status": "filed",
    "published_at": None,
}


def add_version(document, content: bytes) -> None:
    staged = blobstore.spool([content], filename="v.txt")
    actions.add_version(document, staged, actor=Actor(label="tests"))


def dossier_events(kind: str) -> int:
    return Event.objects.filter(kind=kind).count()


# --- PUT: create, update, idempotent --------------------------------------------------------


def test_put_creates_then_updates(registry):
    created = put(registry, KEY, PATENT)
    assert created.status_code == 201, created.content
    assert created.json()["title"] == "Widget with a handle"
    assert created["Location"] == "/api/v1/dossiers/BG/P/2024/123"

    updated = put(registry, KEY, {"status": "published", "published_at": "2024-07-01"})
    assert updated.status_code == 200, updated.content
    assert updated.json()["status"] == "published"
    assert updated.json()["published_at"] == "2024-07-01"
    assert Dossier.objects.count() == 1
    assert dossier_events(EventKind.DOSSIER_CREATED) == 1
    assert dossier_events(EventKind.DOSSIER_UPDATED) == 1


def test_same_data_twice_changes_nothing(registry):
    put(registry, KEY, PATENT)
    again = put(registry, KEY, PATENT)
    assert again.status_code == 200
    assert dossier_events(EventKind.DOSSIER_CREATED) == 1
    assert dossier_events(EventKind.DOSSIER_UPDATED) == 0
    assert Dossier.objects.get().revision == 1


def test_fields_left_out_keep_their_values(registry):
    put(registry, KEY, PATENT)
    response = put(registry, KEY, {"title": "Improved widget"})
    body = response.json()
    assert body["title"] == "Improved widget"
    assert body["applicants"] == ["Acme Ltd", "Иван Петров"]
    assert body["filing_date"] == "2024-01-15"
    assert body["status"] == "filed"
    assert body["ip_type"] == "patent"
    assert Event.objects.get(kind=EventKind.DOSSIER_UPDATED).payload["fields"] == ["title"]


def test_json_vocabulary(registry):
    body = put(registry, KEY, PATENT | {"language": "bg"}).json()
    for field in (
        "id",
        "key",
        "ip_type",
        "title",
        "applicants",
        "representatives",
        "filing_date",
        "status",
        "published_at",
        "registration_date",
        "language",
        "priority_claims",
        "raw_key",
    ):
        assert field in body, field
    assert body["key"] == KEY  # shown padded
    assert body["normalized_key"] == "BG/P/2024/123"
    assert body["raw_key"] == KEY
    assert body["ip_type"] == "patent"
    assert body["language"] == "bg"


def test_priority_claims_round_trip(registry):
    claims = [{"country": "DE", "number": "10 2023 100 001.5", "date": "2023-02-01"}]
    put(registry, KEY, PATENT | {"priority_claims": claims})
    assert registry.get(url(KEY)).json()["priority_claims"] == claims


def test_creating_without_ip_type_is_a_problem(registry):
    response = put(registry, KEY, {"title": "No type"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["field"] == "ip_type"
    assert not Dossier.objects.exists()


def test_unknown_ip_type_is_a_validation_problem(registry):
    response = put(registry, KEY, PATENT | {"ip_type": "copyright"})
    assert response.status_code == 400
    assert response.json()["type"] == "/api/v1/problems/validation-error"
    assert response.json()["field"] == "ip_type"


def test_malformed_file_number_is_a_problem(registry):
    response = put(registry, "BG/P/24/1", PATENT)
    assert response.status_code == 400
    assert response.json()["type"] == "/api/v1/problems/malformed-file-number"
    assert not Dossier.objects.exists()


def test_only_the_registry_and_admins_write_dossiers(examiner):
    response = put(examiner, KEY, PATENT)
    assert response.status_code == 403
    assert response.json()["type"] == "/api/v1/problems/forbidden"
    assert not Dossier.objects.exists()


# --- Every form of the file number reaches the same dossier ---------------------------------


@pytest.mark.parametrize(
    "form",
    [
        "BG/P/2024/000123",
        "BG/P/2024/123",
        "bg/p/2024/123",
        "BG%2FP%2F2024%2F000123",
        "BG%2fP%2f2024%2f123",
    ],
)
def test_key_forms_reach_the_same_dossier(registry, form):
    created = put(registry, KEY, PATENT)
    response = registry.get(f"/api/v1/dossiers/{form}")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == created.json()["id"]


def test_put_through_another_form_updates_the_same_dossier(registry):
    put(registry, KEY, PATENT)
    response = registry.put(
        "/api/v1/dossiers/BG%2FP%2F2024%2F123", {"status": "granted"}, format="json"
    )
    assert response.status_code == 200
    assert Dossier.objects.get().status == "granted"


def test_non_latin_file_type(registry):
    created = put(registry, CYRILLIC_KEY, {"ip_type": "design", "title": "Стол"})
    assert created.status_code == 201, created.content
    assert created.json()["key"] == "BG/Д/2023/000017"
    fetched = registry.get(url("BG/Д/2023/000017"))
    assert fetched.status_code == 200
    assert fetched.json()["id"] == created.json()["id"]
    assert fetched.json()["raw_key"] == CYRILLIC_KEY
    # The Location header is a usable, percent-encoded URL.
    assert registry.get(created["Location"]).json()["id"] == created.json()["id"]


def test_decomposed_unicode_key_is_the_same_dossier(registry):
    put(registry, "BG/Й/2023/5", {"ip_type": "design"})
    decomposed = unicodedata.normalize("NFD", "BG/Й/2023/5")
    assert decomposed != "BG/Й/2023/5"
    response = registry.get(url(decomposed))
    assert response.status_code == 200
    assert Dossier.objects.count() == 1


def test_dossier_by_uuid(registry):
    dossier_id = put(registry, KEY, PATENT).json()["id"]
    assert registry.get(f"/api/v1/dossiers/{dossier_id}").json()["key"] == KEY


def test_unknown_dossier_is_a_problem(registry):
    response = registry.get(url("BG/P/2024/999"))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/v1/problems/unknown-dossier"


# --- The list: filters and pagination -------------------------------------------------------


@pytest.fixture
def portfolio(db):
    create_dossier("BG/P/2024/1", ip_type="patent", status="filed", title="Gear box")
    create_dossier("BG/P/2024/2", ip_type="patent", status="granted", title="Brake")
    create_dossier(
        "BG/N/2024/3",
        ip_type="trademark",
        status="filed",
        title="ROSA",
        applicants=["Розова долина АД"],
    )
    create_dossier("BG/Д/2024/4", ip_type="design", status="filed", title="Chair")


def keys(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["key"] for row in response.json()["results"]]


def test_list_filters_by_ip_type_and_status(registry, portfolio):
    assert keys(registry.get("/api/v1/dossiers", {"ip_type": "patent"})) == [
        "BG/P/2024/000001",
        "BG/P/2024/000002",
    ]
    assert keys(registry.get("/api/v1/dossiers", {"ip_type": "patent", "status": "granted"})) == [
        "BG/P/2024/000002"
    ]
    assert len(keys(registry.get("/api/v1/dossiers", {"status": "filed"}))) == 3


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("brake", ["BG/P/2024/000002"]),  # title, any case
        ("BG/N", ["BG/N/2024/000003"]),  # key
        ("Розова", ["BG/N/2024/000003"]),  # a non-Latin applicant name
        ("BG/Д", ["BG/Д/2024/000004"]),  # a non-Latin key
    ],
)
def test_list_searches_key_title_and_applicants(registry, portfolio, q, expected):
    assert keys(registry.get("/api/v1/dossiers", {"q": q})) == expected


def test_list_paginates(registry, portfolio):
    first = registry.get("/api/v1/dossiers", {"page_size": 3}).json()
    assert first["count"] == 4
    assert len(first["results"]) == 3
    assert first["next"]
    second = registry.get(first["next"]).json()
    assert second["next"] is None
    assert second["previous"]
    seen = [row["key"] for row in first["results"] + second["results"]]
    assert len(set(seen)) == 4


def test_list_hides_secret_dossiers_from_examiners(registry, examiner, portfolio):
    create_dossier("BG/P/2024/9", secret=True)
    assert "BG/P/2024/000009" in keys(registry.get("/api/v1/dossiers"))
    assert "BG/P/2024/000009" not in keys(examiner.get("/api/v1/dossiers"))


# The API key's `last_used_at` is touched at most once a minute: warm up so it is not counted.
DOSSIER_LIST_QUERIES = 3  # API key, count, page
FILE_WRAPPER_QUERIES = 6  # API key, dossier, count, page, versions with blobs, renditions


def test_dossier_list_does_constant_queries(registry, django_assert_num_queries):
    create_dossier("BG/P/2023/1")
    registry.get("/api/v1/dossiers")
    with django_assert_num_queries(DOSSIER_LIST_QUERIES):
        assert registry.get("/api/v1/dossiers").json()["count"] == 1
    for n in range(2, 30):
        create_dossier(f"BG/P/2023/{n}", applicants=[f"Applicant {n}"])
    with django_assert_num_queries(DOSSIER_LIST_QUERIES):
        assert registry.get("/api/v1/dossiers").json()["count"] == 29


def test_file_wrapper_listing_does_constant_queries(registry, dossier, django_assert_num_queries):
    path = f"{url(KEY)}/documents"
    file_document(dossier)
    registry.get(path)
    with django_assert_num_queries(FILE_WRAPPER_QUERIES):
        assert registry.get(path).json()["count"] == 1
    for n in range(15):
        document = file_document(dossier, type_code="RESP", title=f"Reply {n}")
        add_version(document, b"corrected reply %d" % n)
    with django_assert_num_queries(FILE_WRAPPER_QUERIES):
        assert registry.get(path).json()["count"] == 16
