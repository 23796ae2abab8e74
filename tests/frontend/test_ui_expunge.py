"""Expunging from the viewer: only administrators see the forms (the API's rule); the form needs
its CSRF token, a reason, a reference and the confirming tick; afterwards the version is a
tombstone (digest and when for everyone, who, why and on what authority only for staff) and its
content is gone. Refusals change nothing."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.test import Client

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import AuditEvent, Document, Version
from dossier.roles import Role
from tests.ui_support import paper_in_two_versions, signed_in

pytestmark = pytest.mark.django_db

FIRST = b"the claims as first filed"
MISTAKE = b"another applicant's claims, filed here by mistake"
ORDER = {"reason": "papers of another applicant", "reference": "Court order 12/2026"}


@pytest.fixture
def document():
    return paper_in_two_versions(FIRST, MISTAKE)


def viewer_url(document) -> str:
    return f"/documents/{document.id}"


def version_url(document, number: int) -> str:
    return f"/documents/{document.id}/versions/{number}/expunge"


def document_url(document) -> str:
    return f"/documents/{document.id}/expunge"


def form(**changes) -> dict:
    return {**ORDER, "confirm": "yes", **changes}


def expunged_numbers(document) -> list[int]:
    return sorted(
        Version.objects.filter(document=document, expunged_at__isnull=False).values_list(
            "number", flat=True
        )
    )


def test_an_admin_sees_a_form_for_each_version_and_for_the_document(document):
    html = signed_in(Role.ADMIN).get(viewer_url(document)).content.decode()
    for action in (version_url(document, 1), version_url(document, 2), document_url(document)):
        assert f'action="{action}"' in html
    assert html.count("Expunge this version</summary>") == 2
    assert "Expunge the whole document</summary>" in html
    # The confirm step: a reason, a reference and the tick are all required by the form.
    assert re.search(r'<textarea id="expunge-reason-1" name="reason"[^>]* required>', html)
    assert re.search(r'<input id="expunge-reference-1" name="reference"[^>]* required>', html)
    assert re.search(r'<input type="checkbox" name="confirm" value="yes" required>', html)


@pytest.mark.parametrize(
    "role", [Role.EXAMINER, Role.RECORDS_CLERK, Role.REGISTRY_SYSTEM, None, "anonymous"]
)
def test_no_one_else_sees_a_form(document, role):
    client = Client() if role == "anonymous" else signed_in(role)
    response = client.get(viewer_url(document))
    assert response.status_code == 200
    assert "/expunge" not in response.content.decode()
    assert "Expunge" not in response.content.decode()


def test_expunging_a_version_through_the_form_leaves_a_tombstone(document):
    client = signed_in(Role.ADMIN, enforce_csrf_checks=True)
    page = client.get(viewer_url(document)).content.decode()
    token = re.search(
        rf'action="{version_url(document, 2)}">\s*<input type="hidden" '
        r'name="csrfmiddlewaretoken" value="([^"]+)"',
        page,
    ).group(1)
    digest = hashlib.sha256(MISTAKE).hexdigest()

    response = client.post(version_url(document, 2), form(csrfmiddlewaretoken=token))

    assert response.status_code == 302
    assert response["Location"] == f"{viewer_url(document)}?version=2"
    assert expunged_numbers(document) == [2]
    assert not blobstore.exists(digest)
    assert blobstore.exists(hashlib.sha256(FIRST).hexdigest())
    audit = AuditEvent.objects.get(action="document.expunge")
    assert (audit.detail["reason"], audit.detail["reference"]) == (
        ORDER["reason"],
        ORDER["reference"],
    )
    shown = client.get(response["Location"]).content.decode()
    assert "Version 2 expunged." in shown
    assert 'data-kind="expunged"' in shown and 'data-url=""' in shown
    assert "Version 2 was expunged" in shown
    assert digest in shown
    for detail in (ORDER["reason"], ORDER["reference"], "admin-user"):
        assert detail in shown
    # Its content is not offered any more, nor a second expunge of it; version 1's still is.
    assert f"/api/v1/documents/{document.id}/versions/2/content" not in shown
    assert f"/api/v1/documents/{document.id}/versions/1/content" in shown
    assert f'action="{version_url(document, 2)}"' not in shown
    assert client.get(f"/api/v1/documents/{document.id}/versions/2/content").status_code == 410


def test_the_viewer_opens_on_the_newest_version_still_there(document):
    actions.expunge_document(document, actor=Actor(label="t"), versions=[2], **ORDER)
    html = signed_in(Role.EXAMINER).get(viewer_url(document)).content.decode()
    assert re.search(r'<li aria-current="true">\s*<a href="\?version=1">', html)
    assert 'data-kind="text"' in html


def test_the_public_sees_that_and_when_never_who_why_or_on_what_authority(document):
    actions.expunge_document(document, actor=Actor(label="t"), versions=[2], **ORDER)
    for client in (Client(), signed_in(None)):
        html = client.get(f"{viewer_url(document)}?version=2").content.decode()
        assert "Version 2 was expunged" in html
        assert hashlib.sha256(MISTAKE).hexdigest() in html
        assert "Expunged on" in html
        assert ORDER["reason"] not in html and ORDER["reference"] not in html
        assert "Expunged by" not in html
    staff = signed_in(Role.EXAMINER).get(f"{viewer_url(document)}?version=2").content.decode()
    assert ORDER["reason"] in staff and ORDER["reference"] in staff


def test_expunging_the_whole_document(document):
    client = signed_in(Role.ADMIN)
    response = client.post(document_url(document), form(), follow=True)
    assert response.redirect_chain == [(viewer_url(document), 302)]
    html = response.content.decode()
    assert "Versions 1, 2 expunged." in html
    assert expunged_numbers(document) == [1, 2]
    assert Document.objects.get(pk=document.pk).expunged_at is not None
    assert "Version 2 was expunged" in html
    assert "/content" not in html  # no download left
    assert "Expunge the whole document" not in html


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"reason": "  "}, "Give the reason the content is expunged."),
        ({"reference": ""}, "Give the reference of the court order, decision or request."),
        ({"confirm": ""}, "Confirm that the content is to be removed for good."),
        ({"reason": "x" * 2001}, "The reason is too long (at most 2000 characters)."),
        ({"reference": "x" * 201}, "The reference is too long (at most 200 characters)."),
    ],
    ids=["no-reason", "no-reference", "not-confirmed", "long-reason", "long-reference"],
)
def test_an_incomplete_form_is_refused_and_changes_nothing(document, changes, message):
    client = signed_in(Role.ADMIN)
    for url in (version_url(document, 1), document_url(document)):
        response = client.post(url, form(**changes), follow=True)
        assert message in response.content.decode()
    assert expunged_numbers(document) == []
    assert not AuditEvent.objects.filter(action="document.expunge").exists()
    assert blobstore.exists(hashlib.sha256(MISTAKE).hexdigest())


def test_a_post_without_the_csrf_token_is_refused(document):
    client = signed_in(Role.ADMIN, enforce_csrf_checks=True)
    assert client.post(version_url(document, 1), form()).status_code == 403
    assert client.post(document_url(document), form()).status_code == 403
    assert expunged_numbers(document) == []


@pytest.mark.parametrize(
    "role", [Role.EXAMINER, Role.RECORDS_CLERK, Role.REGISTRY_SYSTEM, None, "anonymous"]
)
def test_anyone_else_gets_403_and_nothing_changes(document, role):
    client = Client() if role == "anonymous" else signed_in(role)
    assert client.post(version_url(document, 1), form()).status_code == 403
    assert client.post(document_url(document), form()).status_code == 403
    assert expunged_numbers(document) == []


def test_an_unknown_version_is_a_404_and_get_is_refused(document):
    client = signed_in(Role.ADMIN)
    assert client.post(version_url(document, 9), form()).status_code == 404
    assert client.get(version_url(document, 1)).status_code == 405
    assert client.get(document_url(document)).status_code == 405
    assert expunged_numbers(document) == []


def test_expunging_again_says_there_is_nothing_left(document):
    actions.expunge_document(document, actor=Actor(label="t"), versions=[1], **ORDER)
    response = signed_in(Role.ADMIN).post(version_url(document, 1), form(), follow=True)
    assert "Nothing to expunge: the content is expunged already." in response.content.decode()
    assert AuditEvent.objects.filter(action="document.expunge").count() == 1


def test_the_forms_the_tombstone_and_the_message_are_translated(document):
    client = signed_in(Role.ADMIN)
    client.post("/i18n/setlang/", {"language": "fr"})
    assert (
        "Supprimer définitivement cette version"
        in client.get(viewer_url(document)).content.decode()
    )
    response = client.post(version_url(document, 2), form(), follow=True)
    html = response.content.decode()
    assert "Version 2 supprimée définitivement." in html
    assert "La version 2 a été supprimée définitivement" in html
    assert "Empreinte (SHA-256)" in html


def test_a_failed_version_expunged_since_is_neither_listed_nor_retried(document):
    from ingest import pipeline
    from ingest.models import Processing, State

    version = Version.objects.get(document=document, number=2)
    processing, _ = Processing.objects.get_or_create(version=version)
    pipeline._finish(processing, State.FAILED, "encrypted-pdf")
    client = signed_in(Role.ADMIN)
    assert f'data-document="{document.id}"' in client.get("/operations").content.decode()
    actions.expunge_document(document, actor=Actor(label="t"), versions=[2], **ORDER)

    assert f'data-document="{document.id}"' not in client.get("/operations").content.decode()
    response = client.post(f"/operations/retry/{document.id}/2", follow=True)
    assert "This version was expunged; there is nothing to process." in response.content.decode()
    assert Processing.objects.get(version=version).state == State.FAILED


def test_the_dossier_page_lists_an_expunged_document(document):
    actions.expunge_document(document, actor=Actor(label="t"), **ORDER)
    response = signed_in(Role.EXAMINER).get("/dossiers/BG/P/2023/7")
    assert response.status_code == 200
    assert f"/documents/{document.id}" in response.content.decode()


def test_a_document_under_a_legal_hold_is_refused_with_the_hold_named(document):
    actions.place_legal_hold(
        document.dossier,
        document=document,
        reason="evidence in an infringement case",
        reference="District Court 4 O 12/2025",
        actor=Actor(label="records manager"),
    )
    response = signed_in(Role.ADMIN).post(document_url(document), form(), follow=True)
    assert response.status_code == 200
    assert "District Court 4 O 12/2025" in response.text
    assert expunged_numbers(document) == []
