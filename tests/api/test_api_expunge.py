"""`POST /api/v1/documents/{id}/expunge`: administrators only; afterwards the content answers
410 Gone and the feed announces it."""

from __future__ import annotations

import json
import os

import pytest

from api.models import ApiKey
from dossier import access, actions, blobstore
from dossier.audit import Actor
from dossier.feed import feed_item
from dossier.models import Document, Event, EventKind, Version
from dossier.roles import Role
from tests.conftest import client_for_key, file_document
from tests.factories import UserFactory
from webhooks.attempts import body_of
from webhooks.models import Webhook, WebhookDelivery

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


def _reader(role: Role | None):
    """A signed-in user of `role` (an admin is a superuser; the public, a user in no group);
    None: nobody signed in."""
    if role is None:
        return None
    if role == Role.PUBLIC:
        return UserFactory(username="public-reader")
    return UserFactory(username=f"{role}-reader", role=role, is_superuser=role == Role.ADMIN)


@pytest.mark.parametrize("role", [*Role, None], ids=[*[r.value for r in Role], "anonymous"])
def test_the_feed_item_follows_the_tombstones_rule_for_every_reader(document, role):
    """Who reads the feed (admins, the registry) may see an expunge's reason and reference; a
    reader who may not (the public) would get the item without them, as the API's tombstone."""
    actions.expunge_document(document, actor=Actor(label="dpo"), versions=[1], **ORDER)
    event = Event.objects.get(kind=EventKind.DOCUMENT_EXPUNGED)
    reader = _reader(role)

    payload = feed_item(event, reader)["payload"]

    assert payload["documentId"] == str(document.id)
    assert (payload["versions"], payload["all"]) == ([1], False)
    if access.sees_expunge_details(reader):
        assert (payload["reason"], payload["reference"]) == (ORDER["reason"], ORDER["reference"])
    else:
        assert "reason" not in payload and "reference" not in payload
        assert ORDER["reference"] not in json.dumps(payload)
    # Every role that reads the feed today sees the details: nothing is hidden from the feed's
    # actual readers, and the public (who would not see them) may not read it at all.
    if access.can_read_event_feed(reader):
        assert access.sees_expunge_details(reader)


def test_the_public_may_not_read_the_feed(public, document):
    actions.expunge_document(document, actor=Actor(label="dpo"), **ORDER)
    assert public.get("/api/v1/events").status_code in (401, 403)


def test_a_webhook_delivers_what_the_feed_shows_its_owner(registry, document):
    actions.expunge_document(document, actor=Actor(label="dpo"), **ORDER)
    event = Event.objects.get(kind=EventKind.DOCUMENT_EXPUNGED)
    key = ApiKey.objects.get(name="ipas")
    webhook = Webhook.objects.create(
        owner=key.user, api_key=key, url="https://registry.example/hook"
    )
    delivery = WebhookDelivery.objects.create(webhook=webhook, event=event, kind=event.kind)

    sent = json.loads(body_of(delivery))

    assert sent in registry.get("/api/v1/events").json()["events"]
    assert sent["payload"]["reference"] == ORDER["reference"]
    # A webhook that may act no more (its key revoked) is never sent; were its body written,
    # it would carry no details either.
    key.revoke()
    revoked = json.loads(body_of(WebhookDelivery.objects.get(pk=delivery.pk)))
    assert "reference" not in revoked["payload"] and "reason" not in revoked["payload"]


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
