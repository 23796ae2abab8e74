"""Who may see and do what (DOMAIN.md "Who may see what", dossier/access.py), by persona.

Every list, detail and download path is checked with the same rules: an object the caller may
not see answers 404 (its existence does not leak), and lists simply leave it out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.models import ApiKey
from dossier.models import Document, DocumentState, Dossier
from dossier.roles import Role
from tests.conftest import client_for_key
from tests.factories import DocumentFactory, DossierFactory, UserFactory

KEY = "BG/P/2024/000123"
URL = f"/api/v1/dossiers/{KEY}"
PUBLIC_VISIBILITIES = ("public", "public_after_publication")
HIDDEN_VISIBILITIES = ("confidential", "internal")


@dataclass
class Wrapper:
    """A dossier with one document of each visibility and a cancelled one."""

    dossier: Dossier
    by_visibility: dict[str, Document]
    cancelled: Document

    @property
    def all_documents(self) -> list[Document]:
        return [*self.by_visibility.values(), self.cancelled]


def build_wrapper(key: str = KEY, **dossier_fields) -> Wrapper:
    dossier = DossierFactory(key=key, **dossier_fields)
    by_visibility = {
        visibility: DocumentFactory(dossier=dossier, visibility=visibility, title=visibility)
        for visibility in (*PUBLIC_VISIBILITIES, *HIDDEN_VISIBILITIES)
    }
    cancelled = DocumentFactory(dossier=dossier, visibility="public", title="cancelled")
    Document.objects.filter(pk=cancelled.pk).update(
        state=DocumentState.CANCELLED, cancel_reason="filed twice"
    )
    return Wrapper(dossier, by_visibility, cancelled)


def document_paths(document: Document) -> list[str]:
    base = f"/api/v1/documents/{document.id}"
    return [base, f"{base}/versions", f"{base}/content", f"{base}/versions/1/content"]


def dossier_paths(key: str = KEY) -> list[str]:
    return [f"/api/v1/dossiers/{key}", f"/api/v1/dossiers/{key}/documents"]


def listed_keys(client) -> set[str]:
    response = client.get("/api/v1/dossiers")
    assert response.status_code == 200, response.content
    return {item["normalized_key"] for item in response.json()["results"]}


def listed_titles(client, key: str = KEY) -> set[str]:
    response = client.get(f"/api/v1/dossiers/{key}/documents")
    assert response.status_code == 200, response.content
    return {item["title"] for item in response.json()["results"]}


def assert_hidden(client, paths: list[str]) -> None:
    for path in paths:
        response = client.get(path)
        assert response.status_code == 404, (path, response.status_code, response.content)
        assert response["Content-Type"] == "application/problem+json"
        assert "/problems/unknown-" in response.json()["type"]


def assert_visible(client, paths: list[str]) -> None:
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.content)


def publish(registry, key: str = KEY, on: dt.date | None = None) -> None:
    on = on or timezone.localdate() - dt.timedelta(days=1)
    response = registry.put(
        f"/api/v1/dossiers/{key}", {"published_at": on.isoformat()}, format="json"
    )
    assert response.status_code == 200, response.content


@pytest.fixture
def cleared_examiner(db):
    """An examiner holding `dossier.view_secret_dossier`."""
    user = UserFactory(username="sam", role=Role.EXAMINER, secret_clearance=True)
    _, key = ApiKey.create("examiner-cleared", Role.EXAMINER, user=user)
    return client_for_key(key)


# --- The public: nothing before publication, public documents after -------------------------


@pytest.mark.django_db
def test_public_sees_nothing_of_an_unpublished_dossier(public, examiner):
    wrapper = build_wrapper()
    assert listed_keys(public) == set()
    assert_hidden(public, dossier_paths())
    for document in wrapper.all_documents:
        assert_hidden(public, document_paths(document))
    # The examiner proves the paths are right: the dossier is there.
    assert_visible(examiner, dossier_paths())


@pytest.mark.django_db
def test_public_sees_public_documents_after_publication(public, registry):
    wrapper = build_wrapper()
    publish(registry)

    assert "BG/P/2024/123" in listed_keys(public)
    assert_visible(public, dossier_paths())
    assert listed_titles(public) == set(PUBLIC_VISIBILITIES)
    for visibility in PUBLIC_VISIBILITIES:
        assert_visible(public, document_paths(wrapper.by_visibility[visibility]))
    for visibility in HIDDEN_VISIBILITIES:
        assert_hidden(public, document_paths(wrapper.by_visibility[visibility]))
    assert_hidden(public, document_paths(wrapper.cancelled))


@pytest.mark.django_db
def test_public_content_download_is_the_stored_content(public, registry):
    dossier = DossierFactory(key=KEY)
    document = DocumentFactory(dossier=dossier, content=b"the claims", visibility="public")
    publish(registry)
    response = public.get(f"/api/v1/documents/{document.id}/content")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"the claims"


@pytest.mark.django_db
def test_publication_in_the_future_is_not_publication_yet(public, registry):
    wrapper = build_wrapper()
    publish(registry, on=timezone.localdate() + dt.timedelta(days=30))
    assert_hidden(public, dossier_paths())
    assert_hidden(public, document_paths(wrapper.by_visibility["public"]))


@pytest.mark.django_db
def test_trademarks_public_from_filing_when_configured(public, settings):
    mark = build_wrapper("BG/T/2024/7", ip_type="trademark")
    patent = build_wrapper("BG/P/2024/8", ip_type="patent")
    assert_hidden(public, dossier_paths("BG/T/2024/7"))

    settings.EDMS_PUBLIC_FROM_FILING = ["trademark"]
    assert listed_keys(public) == {"BG/T/2024/7"}
    assert listed_titles(public, "BG/T/2024/7") == set(PUBLIC_VISIBILITIES)
    assert_visible(public, document_paths(mark.by_visibility["public_after_publication"]))
    assert_hidden(public, document_paths(mark.by_visibility["confidential"]))
    assert_hidden(public, dossier_paths("BG/P/2024/8"))
    assert_hidden(public, document_paths(patent.by_visibility["public"]))


@pytest.mark.django_db
def test_public_access_can_be_switched_off(public, registry, settings):
    wrapper = build_wrapper()
    publish(registry)
    settings.EDMS_PUBLIC_ACCESS = False
    for path in [
        "/api/v1/dossiers",
        *dossier_paths(),
        *document_paths(wrapper.by_visibility["public"]),
    ]:
        response = public.get(path)
        assert response.status_code == 401, (path, response.content)
        assert response.json()["type"] == "/api/v1/problems/not-authenticated"


# --- Secrecy overrides every other rule -------------------------------------------------------


@pytest.mark.django_db
def test_secret_dossier_is_invisible_to_examiners_clerks_and_the_public(
    registry, examiner, records_clerk, public, settings
):
    settings.EDMS_PUBLIC_FROM_FILING = ["patent"]
    wrapper = build_wrapper(secret=True)
    publish(registry)  # published, public from filing: secrecy still wins
    for client in (examiner, records_clerk, public):
        assert listed_keys(client) == set()
        assert_hidden(client, dossier_paths())
        for document in wrapper.all_documents:
            assert_hidden(client, document_paths(document))


@pytest.mark.django_db
def test_secret_dossier_is_visible_to_registry_admin_and_cleared_examiner(
    registry, admin_client, cleared_examiner
):
    wrapper = build_wrapper(secret=True)
    for client in (registry, admin_client, cleared_examiner):
        assert "BG/P/2024/123" in listed_keys(client)
        assert_visible(client, dossier_paths())
        assert listed_titles(client) == {d.title for d in wrapper.all_documents}
        for document in wrapper.all_documents:
            assert_visible(client, document_paths(document))


@pytest.mark.django_db
def test_secret_dossier_takes_no_documents_from_those_who_cannot_see_it(examiner, records_clerk):
    DossierFactory(key=KEY, secret=True)
    for client in (examiner, records_clerk):
        response = client.post(
            f"{URL}/documents",
            {"file": SimpleUploadedFile("a.txt", b"x"), "type": "CLM"},
            format="multipart",
        )
        assert response.status_code == 404, response.content
    assert not Document.objects.exists()


# --- Internal roles ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_records_clerk_sees_all_but_internal_documents(records_clerk):
    wrapper = build_wrapper()
    assert listed_titles(records_clerk) == {
        "public",
        "public_after_publication",
        "confidential",
        "cancelled",
    }
    for visibility in ("public", "public_after_publication", "confidential"):
        assert_visible(records_clerk, document_paths(wrapper.by_visibility[visibility]))
    assert_hidden(records_clerk, document_paths(wrapper.by_visibility["internal"]))


@pytest.mark.django_db
def test_examiner_sees_every_document_of_an_unpublished_dossier(examiner):
    wrapper = build_wrapper()
    assert listed_titles(examiner) == {d.title for d in wrapper.all_documents}
    for document in wrapper.all_documents:
        assert_visible(examiner, document_paths(document))


# --- Who may write ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_public_cannot_write(public):
    document = DocumentFactory(dossier=DossierFactory(key=KEY))
    attempts = [
        public.put(URL, {"ip_type": "patent"}, format="json"),
        public.put("/api/v1/dossiers/BG/P/2024/9", {"ip_type": "patent"}, format="json"),
        public.post(
            f"{URL}/documents",
            {"file": SimpleUploadedFile("a.txt", b"x"), "type": "CLM"},
            format="multipart",
        ),
        public.post(
            f"/api/v1/documents/{document.id}/versions",
            {"file": SimpleUploadedFile("a.txt", b"y")},
            format="multipart",
        ),
        public.patch(f"/api/v1/documents/{document.id}", {"title": "x"}, format="json"),
    ]
    for response in attempts:
        assert response.status_code == 401, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["type"] == "/api/v1/problems/not-authenticated"
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert Dossier.objects.count() == 1
    assert Document.objects.get().latest_version == 1


@pytest.mark.django_db
def test_examiner_cannot_create_or_update_dossiers(examiner):
    DossierFactory(key=KEY, title="Original")
    for url in (URL, "/api/v1/dossiers/BG/P/2024/9"):
        response = examiner.put(url, {"ip_type": "patent", "title": "Changed"}, format="json")
        assert response.status_code == 403, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["type"] == "/api/v1/problems/forbidden"
    assert list(Dossier.objects.values_list("title", flat=True)) == ["Original"]


@pytest.mark.django_db
def test_records_clerk_registers_documents(records_clerk):
    DossierFactory(key=KEY)
    response = records_clerk.post(
        f"{URL}/documents",
        {"file": SimpleUploadedFile("scan.pdf", b"%PDF-1.4 scan"), "type": "DESC"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    document = Document.objects.get(pk=response.json()["id"])
    assert document.versions.get().created_by.username == "rico"


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["examiner", "records_clerk"])
def test_only_registry_and_admin_cancel(request, persona):
    document = DocumentFactory(dossier=DossierFactory(key=KEY))
    client = request.getfixturevalue(persona)
    response = client.patch(
        f"/api/v1/documents/{document.id}",
        {"state": "cancelled", "cancel_reason": "duplicate"},
        format="json",
    )
    assert response.status_code == 403, response.content
    assert response.json()["type"] == "/api/v1/problems/forbidden"
    document.refresh_from_db()
    assert document.state == DocumentState.ACTIVE


@pytest.mark.django_db
def test_refused_cancel_changes_nothing_else_in_the_same_request(examiner):
    """A request that fails is not half applied: the title change goes with the refusal."""
    document = DocumentFactory(dossier=DossierFactory(key=KEY), title="Claims")
    response = examiner.patch(
        f"/api/v1/documents/{document.id}",
        {"title": "Claims (amended)", "state": "cancelled", "cancel_reason": "duplicate"},
        format="json",
    )
    assert response.status_code == 403, response.content
    document.refresh_from_db()
    assert (document.title, document.state, document.revision) == ("Claims", "active", 1)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["registry", "admin_client"])
def test_registry_and_admin_cancel_leaving_a_tombstone(request, persona):
    document = DocumentFactory(dossier=DossierFactory(key=KEY))
    client = request.getfixturevalue(persona)
    response = client.patch(
        f"/api/v1/documents/{document.id}",
        {"state": "cancelled", "cancel_reason": "duplicate"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "cancelled"
    assert response.json()["cancel_reason"] == "duplicate"
    assert client.get(f"/api/v1/documents/{document.id}/content").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["examiner", "records_clerk"])
def test_event_feed_is_for_the_registry(request, persona, registry):
    DossierFactory(key=KEY, secret=True)
    response = request.getfixturevalue(persona).get("/api/v1/events")
    assert response.status_code == 403, response.content
    assert "events" not in response.json()
    assert registry.get("/api/v1/events").json()["events"]


@pytest.mark.django_db
def test_event_feed_refuses_the_public(public):
    DossierFactory(key=KEY, secret=True)
    response = public.get("/api/v1/events")
    assert response.status_code in (401, 403), response.content
    assert response["Content-Type"] == "application/problem+json"
    assert "events" not in response.json()


# --- Lists filter in the query, before the page limit -------------------------------------------


@pytest.mark.django_db
def test_file_wrapper_query_count_does_not_grow_with_documents(public, registry):
    """Access is one queryset filter: the listing costs the same for 2 or 12 documents."""
    dossier = DossierFactory(key=KEY)
    publish(registry)
    url = f"/api/v1/dossiers/{KEY}/documents"

    def queries_for_listing() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert public.get(url).status_code == 200
        return len(captured)

    for _ in range(2):
        DocumentFactory(dossier=dossier, visibility="public")
    few = queries_for_listing()
    for _ in range(10):
        DocumentFactory(dossier=dossier, visibility="public")
    assert queries_for_listing() == few


@pytest.mark.django_db
def test_hidden_documents_do_not_shorten_a_page(records_clerk):
    """Permission is applied before the page limit, never after it."""
    dossier = DossierFactory(key=KEY)
    for index in range(3):
        DocumentFactory(dossier=dossier, visibility="internal", title=f"note {index}")
    for index in range(3):
        DocumentFactory(dossier=dossier, visibility="confidential", title=f"paper {index}")
    page = records_clerk.get(f"/api/v1/dossiers/{KEY}/documents", {"page_size": 2}).json()
    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert all(item["title"].startswith("paper") for item in page["results"])
