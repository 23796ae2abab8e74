"""Editing a document from the UI (issue 16, point 4): type, official date, title and
visibility, a move, a cancellation and a new version, each with the API's role rule (a role
without it gets 403 and changes nothing), audited when done, and a refusal of bad input shown
as a message with nothing changed. The dossier page's inline edit posts the same forms asking
for JSON and gets the row drawn anew; who may not edit never sees the controls."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from dossier.models import AuditEvent, Document, DocumentState, Version, Visibility
from dossier.roles import Role
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CLAIMS = b"1. A widget with a handle."
AMENDED = b"1. A widget with a curved handle."


@pytest.fixture
def dossier():
    # Published, so the public may open its public documents (and still may not edit them).
    return create_dossier(
        "BG/P/2024/4242", published_at=timezone.localdate() - dt.timedelta(days=1)
    )


@pytest.fixture
def document(dossier):
    return file_document(
        dossier,
        CLAIMS,
        type_code="CLM",
        filename="claims.txt",
        title="Claims",
        visibility=Visibility.PUBLIC,
        official_date=dt.date(2024, 3, 1),
    )


def signed_in(role: Role | None) -> Client:
    """A client signed in with `role`; `None` is a signed-in user in no group (the public)."""
    client = Client()
    user = UserFactory(role=role, is_superuser=role == Role.ADMIN)
    client.force_login(user)
    return client


def url(document, what: str) -> str:
    return f"/documents/{document.id}/{what}"


def audits(document, action: str):
    return AuditEvent.objects.filter(object_id=str(document.id), action=action)


def message_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


EDIT = {
    "type": "RESP",
    "official_date": "2024-05-06",
    "title": "Reply to the first office action",
    "visibility": Visibility.CONFIDENTIAL,
}


# --- Type, official date, title, visibility -----------------------------------------------------


@pytest.mark.parametrize("role", [Role.EXAMINER, Role.RECORDS_CLERK])
def test_a_role_that_may_change_documents_edits_type_date_title_and_visibility(document, role):
    response = signed_in(role).post(url(document, "edit"), EDIT)
    assert response.status_code == 302
    assert response.url == f"/documents/{document.id}"
    document.refresh_from_db()
    assert document.doc_type_id == "RESP"
    assert document.official_date == dt.date(2024, 5, 6)
    assert document.title == "Reply to the first office action"
    assert document.visibility == Visibility.CONFIDENTIAL
    (audit,) = audits(document, "document.update")
    assert audit.detail["doc_type"] == {"from": "CLM", "to": "RESP"}
    assert audit.detail["title"] == {"from": "Claims", "to": "Reply to the first office action"}
    assert audit.detail["official_date"] == {"from": "2024-03-01", "to": "2024-05-06"}


def test_the_edit_returns_to_the_page_it_came_from_but_never_elsewhere(document, dossier):
    client = signed_in(Role.EXAMINER)
    back = f"/dossiers/{dossier.display_key}"
    response = client.post(url(document, "edit"), {"title": "Claims 1-10", "next": back})
    assert response.url == back
    response = client.post(
        url(document, "edit"), {"title": "Claims 1-12", "next": "https://elsewhere.example/"}
    )
    assert response.url == f"/documents/{document.id}"


def test_the_public_may_not_edit_and_nothing_changes(document):
    response = signed_in(None).post(url(document, "edit"), EDIT)
    assert response.status_code == 403
    document.refresh_from_db()
    assert (document.doc_type_id, document.title) == ("CLM", "Claims")
    assert not audits(document, "document.update").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("type", "NOPE", "Unknown document type NOPE."),
        ("official_date", "06/05/2024", "Not a date: 06/05/2024 (use YYYY-MM-DD)."),
        ("title", "x" * 501, "The title is too long (at most 500 characters)."),
        ("visibility", "everyone", "Unknown visibility."),
    ],
)
def test_bad_input_is_a_message_and_changes_nothing(document, field, value, message):
    # Every other field valid and different: none of them is applied either.
    form = EDIT | {field: value}
    response = signed_in(Role.EXAMINER).post(url(document, "edit"), form, follow=True)
    assert response.status_code == 200
    assert message in message_of(response)
    document.refresh_from_db()
    assert (document.doc_type_id, document.title, document.visibility) == (
        "CLM",
        "Claims",
        Visibility.PUBLIC,
    )
    assert not audits(document, "document.update").exists()


def test_the_inline_edit_gets_its_row_drawn_anew_or_the_refusal(document):
    client = signed_in(Role.EXAMINER)
    answer = client.post(
        url(document, "edit"),
        {"type": "RESP", "title": "Reply"},
        headers={"accept": "application/json"},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["message"] == "Document changed."
    assert f'data-document="{document.id}"' in body["row"]
    assert ">Reply</a>" in body["row"]
    assert 'data-type="RESP"' in body["row"]
    refused = client.post(
        url(document, "edit"), {"type": "NOPE"}, headers={"accept": "application/json"}
    )
    assert refused.status_code == 400
    assert refused.json() == {"message": "Unknown document type NOPE."}
    document.refresh_from_db()
    assert document.doc_type_id == "RESP"


def test_a_cancelled_document_is_frozen(document):
    document.state = DocumentState.CANCELLED
    document.save()
    answer = signed_in(Role.EXAMINER).post(
        url(document, "edit"), {"title": "Other"}, headers={"accept": "application/json"}
    )
    assert answer.status_code == 409
    assert answer.json()["message"] == "The document is cancelled; it cannot be changed."
    document.refresh_from_db()
    assert document.title == "Claims"


# --- Move ---------------------------------------------------------------------------------------


def test_an_examiner_moves_a_document_to_another_dossier(document, dossier):
    other = create_dossier("BG/P/2024/4343")
    response = signed_in(Role.EXAMINER).post(url(document, "move"), {"dossier": "BG/P/2024/4343"})
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.dossier == other
    (audit,) = audits(document, "document.update")
    assert audit.detail["dossier"] == {"from": dossier.key, "to": other.key}


def test_a_move_to_a_dossier_that_is_not_there_is_a_message(document, dossier):
    client = signed_in(Role.EXAMINER)
    response = client.post(url(document, "move"), {"dossier": "BG/P/2024/9999"}, follow=True)
    assert "No dossier BG/P/2024/9999, or you may not see it." in message_of(response)
    response = client.post(url(document, "move"), {"dossier": "not a number"}, follow=True)
    assert "Not a file number" in message_of(response)
    document.refresh_from_db()
    assert document.dossier == dossier
    assert not audits(document, "document.update").exists()


def test_the_public_may_not_move_a_document(document, dossier):
    create_dossier("BG/P/2024/4343")
    response = signed_in(None).post(url(document, "move"), {"dossier": "BG/P/2024/4343"})
    assert response.status_code == 403
    document.refresh_from_db()
    assert document.dossier == dossier


# --- Cancel -------------------------------------------------------------------------------------


def test_an_admin_cancels_a_document_with_a_reason(document):
    response = signed_in(Role.ADMIN).post(url(document, "cancel"), {"reason": "Filed twice"})
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.state == DocumentState.CANCELLED
    assert document.cancel_reason == "Filed twice"
    (audit,) = audits(document, "document.cancel")
    assert audit.detail == {"reason": "Filed twice"}


def test_an_examiner_may_not_cancel_as_in_the_api(document):
    response = signed_in(Role.EXAMINER).post(url(document, "cancel"), {"reason": "Filed twice"})
    assert response.status_code == 403
    document.refresh_from_db()
    assert document.state == DocumentState.ACTIVE


def test_a_cancellation_needs_a_reason(document):
    response = signed_in(Role.ADMIN).post(url(document, "cancel"), {"reason": "  "}, follow=True)
    assert "Give a reason to cancel the document." in message_of(response)
    document.refresh_from_db()
    assert document.state == DocumentState.ACTIVE
    assert not audits(document, "document.cancel").exists()


# --- A new version ------------------------------------------------------------------------------


def test_a_file_becomes_the_next_version(document):
    upload = SimpleUploadedFile("claims-amended.txt", AMENDED, content_type="text/plain")
    answer = signed_in(Role.EXAMINER).post(
        url(document, "versions/add"), {"file": upload}, headers={"accept": "application/json"}
    )
    assert answer.status_code == 200
    assert answer.json()["message"] == "Version 2 added."
    assert '<small class="version">v2</small>' in answer.json()["row"]
    latest = Version.objects.select_related("blob").get(document=document, number=2)
    assert latest.blob_id == hashlib.sha256(AMENDED).hexdigest()
    assert latest.filename == "claims-amended.txt"
    (audit,) = audits(document, "document.version")
    assert audit.detail["version"] == 2


def test_the_public_may_not_add_a_version(document):
    upload = SimpleUploadedFile("x.txt", AMENDED, content_type="text/plain")
    response = signed_in(None).post(url(document, "versions/add"), {"file": upload})
    assert response.status_code == 403
    assert Version.objects.filter(document=document).count() == 1


def test_no_file_or_a_cancelled_document_takes_no_version(document):
    client = signed_in(Role.EXAMINER)
    response = client.post(url(document, "versions/add"), {}, follow=True)
    assert "Choose a file." in message_of(response)
    Document.objects.filter(pk=document.pk).update(state=DocumentState.CANCELLED)
    upload = SimpleUploadedFile("x.txt", AMENDED, content_type="text/plain")
    response = client.post(url(document, "versions/add"), {"file": upload}, follow=True)
    assert "The document is cancelled; it cannot be changed." in message_of(response)
    assert Version.objects.filter(document=document).count() == 1


# --- Who sees the controls; CSRF; the row of a new document -------------------------------------


def test_only_those_who_may_edit_see_the_controls(document, dossier):
    page = f"/dossiers/{dossier.display_key}"
    examiner = signed_in(Role.EXAMINER)
    html = examiner.get(page).content.decode()
    assert 'id="row-editor"' in html
    assert 'class="edit"' in html
    assert "data-version-url" in html
    assert "Cancel the document" not in html  # the API lets only the registry and admins
    assert "Cancel the document" in signed_in(Role.ADMIN).get(page).content.decode()
    viewer = examiner.get(f"/documents/{document.id}").content.decode()
    assert 'id="edit-document"' in viewer and 'id="add-version"' in viewer
    public = signed_in(None)
    html = public.get(page).content.decode()
    assert 'id="row-editor"' not in html
    assert 'class="edit"' not in html
    assert "data-version-url" not in html
    viewer = public.get(f"/documents/{document.id}").content.decode()
    assert 'id="edit-document"' not in viewer and 'id="add-version"' not in viewer


def test_the_forms_need_their_csrf_token(document):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(role=Role.EXAMINER))
    response = client.post(url(document, "edit"), {"title": "Forged"})
    assert response.status_code == 403
    document.refresh_from_db()
    assert document.title == "Claims"


def test_a_new_documents_row_is_drawn_for_the_file_wrapper(document):
    html = signed_in(Role.EXAMINER).get(url(document, "row")).content.decode()
    assert html.strip().startswith(f'<tr data-document="{document.id}"')
    assert ">Claims</a>" in html
    internal = file_document(document.dossier, b"notes", visibility=Visibility.INTERNAL)
    # A records clerk never sees internal documents: no row, as no page.
    assert signed_in(Role.RECORDS_CLERK).get(url(internal, "row")).status_code == 404
