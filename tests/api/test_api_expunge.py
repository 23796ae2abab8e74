"""`POST /api/v1/documents/{id}/expunge`: administrators only; afterwards the content answers
410 Gone and the feed announces it."""

from __future__ import annotations

import os

import pytest

from api.models import ApiKey
from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import Document, Event, EventKind, Version
from dossier.roles import Role
from tests.conftest import client_for_key, file_document

ORDER = {"reason": "erasure request under GDPR art. 17", "reference": "DPA-2026-0042"}
CONTENT = os.urandom(400)


@pytest.fixture
def document(dossier):
    document = file_document(dossier, CONTENT, filename="claims.pdf")
    actions.add_version(
        document, blobstore.spool([os.urandom(90)], filename="v2.pdf"), actor=Actor(label="t")
    )
    return document


@pytest.fixture
def admin_key(db):
    _, key = ApiKey.create("records-admin", Role.ADMIN)
    return client_for_key(key)


def expunge_url(document) -> str:
    return f"/api/v1/documents/{document.id}/expunge"


def is_problem(response, status: int, slug: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == f"/api/v1/problems/{slug}"


def test_a_registry_key_gets_403_and_nothing_changes(registry, document):
    response = registry.post(expunge_url(document), ORDER, format="json")
    is_problem(response, 403, "forbidden")
    assert not Version.objects.filter(document=document, expunged_at__isnull=False).exists()
    assert registry.get(f"/api/v1/documents/{document.id}/versions/1/content").status_code == 200


def test_the_public_and_examiners_may_not_expunge(public, examiner, document):
    assert public.post(expunge_url(document), ORDER, format="json").status_code in (401, 403)
    is_problem(examiner.post(expunge_url(document), ORDER, format="json"), 403, "forbidden")


def test_an_admin_expunges_and_the_content_is_gone(admin_key, registry, document):
    response = admin_key.post(expunge_url(document), ORDER, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["expunged_at"] is not None
    first, second = body["versions"]
    assert second["expunged"] is not None
    assert first["expunged"]["reference"] == "DPA-2026-0042"
    assert first["expunged"]["reason"] == ORDER["reason"]
    assert first["sha256"] == Version.objects.get(document=document, number=1).blob_id
    base = f"/api/v1/documents/{document.id}"
    for url in (
        f"{base}/content",
        f"{base}/versions/1/content",
        f"{base}/versions/2/content",
        f"{base}/versions/1/text",
        f"{base}/versions/1/renditions/pdf",
    ):
        is_problem(registry.get(url), 410, "content-expunged")
    is_problem(
        registry.post(f"{base}/versions/1/restore", {"reason": "back"}, format="json"),
        410,
        "content-expunged",
    )
    assert not blobstore.exists(first["sha256"])


def test_some_versions_only(admin_key, registry, document):
    response = admin_key.post(expunge_url(document), {**ORDER, "versions": [1]}, format="json")
    assert response.status_code == 200
    first, second = response.json()["versions"]
    assert first["expunged"] is not None and second["expunged"] is None
    is_problem(
        registry.get(f"/api/v1/documents/{document.id}/versions/1/content"), 410, "content-expunged"
    )
    assert registry.get(f"/api/v1/documents/{document.id}/content").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": ORDER["reason"]}, "reference"),
        ({"reference": ORDER["reference"]}, "reason"),
        ({**ORDER, "versions": [9]}, "versions"),
        ({**ORDER, "versions": []}, "versions"),
    ],
)
def test_bad_input_is_a_problem_and_changes_nothing(admin_key, document, body, field):
    response = admin_key.post(expunge_url(document), body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["field"].startswith(field)
    assert not Version.objects.filter(document=document, expunged_at__isnull=False).exists()


def test_the_feed_announces_it(admin_key, registry, document):
    admin_key.post(expunge_url(document), ORDER, format="json")
    events = registry.get("/api/v1/events").json()
    (announced,) = [e for e in events["events"] if e["kind"] == "document.expunged"]
    assert announced["document"] == str(document.id)
    assert announced["payload"]["reference"] == "DPA-2026-0042"
    assert Event.objects.filter(kind=EventKind.DOCUMENT_EXPUNGED).count() == 1


def test_the_public_sees_that_and_when_never_who_why_or_on_what_authority(
    admin_key, registry, public, dossier, document
):
    published = registry.post(
        f"/api/v1/dossiers/{dossier.display_key}/case-events",
        {"kind": "publication", "date": "2024-01-01"},
        format="json",
    )
    assert published.status_code == 201, published.content
    Document.objects.filter(id=document.id).update(visibility="public")
    expunged = admin_key.post(expunge_url(document), {**ORDER, "versions": [1]}, format="json")
    assert expunged.status_code == 200, expunged.content
    base = f"/api/v1/documents/{document.id}"

    staff = registry.get(base).json()["versions"][0]["expunged"]
    assert staff["by"] == "records-admin"
    assert (staff["reason"], staff["reference"]) == (ORDER["reason"], ORDER["reference"])
    response = public.get(base)
    assert response.status_code == 200
    seen = response.json()
    assert seen["versions"][0]["expunged"] == {
        "at": staff["at"],
        "by": None,
        "reason": None,
        "reference": None,
    }
    assert seen["versions"][1]["expunged"] is None
    # Nor anywhere else the public reads versions: the list, the file wrapper, the 410.
    listed = public.get(f"{base}/versions").json()
    assert listed[0]["expunged"] == seen["versions"][0]["expunged"]
    gone = public.get(f"{base}/versions/1/content")
    is_problem(gone, 410, "content-expunged")
    assert ORDER["reference"] not in gone.content.decode()
    assert ORDER["reference"] in registry.get(f"{base}/versions/1/content").content.decode()
    for text in (public.get(base).content, public.get(f"{base}/versions").content):
        assert ORDER["reason"].encode() not in text and ORDER["reference"].encode() not in text


EXPUNGE = "/api/v1/documents/{document_id}/expunge"


def test_answers_and_problems_conform_to_the_openapi_schema(
    admin_key, registry, document, conforms
):
    refused = registry.post(expunge_url(document), ORDER, format="json")
    assert conforms(refused, EXPUNGE)["type"] == "/api/v1/problems/forbidden"
    invalid = admin_key.post(expunge_url(document), {"reason": "x"}, format="json")
    assert conforms(invalid, EXPUNGE)["field"] == "reference"
    expunged = admin_key.post(expunge_url(document), {**ORDER, "versions": [1]}, format="json")
    assert expunged.status_code == 200
    assert conforms(expunged, EXPUNGE)["versions"][0]["expunged"]["reference"] == ORDER["reference"]
    gone = registry.get(f"/api/v1/documents/{document.id}/versions/1/content")
    assert (
        conforms(gone, "/api/v1/documents/{document_id}/versions/{number}/content")["type"]
        == "/api/v1/problems/content-expunged"
    )
