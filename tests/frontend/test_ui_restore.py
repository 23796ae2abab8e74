"""Restoring an older version from the viewer: who sees the button (the API's rule), the form's
CSRF protection, the new version on the old content, and the refusals (no reason, no role, a
cancelled document) that change nothing."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.test import Client

from dossier import actions
from dossier.audit import Actor
from dossier.models import AuditEvent, Version
from dossier.roles import Role
from tests.ui_support import paper_in_two_versions, signed_in

pytestmark = pytest.mark.django_db

FIRST = b"the claims as first filed"
MISTAKE = b"a mistaken page"


@pytest.fixture
def document():
    return paper_in_two_versions(FIRST, MISTAKE)


def viewer_url(document) -> str:
    return f"/documents/{document.id}"


def restore_url(document, number: int) -> str:
    return f"/documents/{document.id}/versions/{number}/restore"


def version_count(document) -> int:
    return Version.objects.filter(document=document).count()


@pytest.mark.parametrize("role", [Role.EXAMINER, Role.RECORDS_CLERK, Role.ADMIN])
def test_who_may_file_versions_sees_the_button_on_older_versions_only(document, role):
    html = signed_in(role).get(viewer_url(document)).content.decode()
    assert f'action="{restore_url(document, 1)}"' in html
    # The latest version is the current one already: nothing to restore.
    assert restore_url(document, 2) not in html
    assert html.count("Restore this version</summary>") == 1
    assert re.search(r'<textarea id="restore-reason-1" name="reason"[^>]* required>', html)


@pytest.mark.parametrize("client", [Client(), None], ids=["anonymous", "no-role"])
def test_the_public_sees_no_button(document, client):
    client = client or signed_in(None)
    response = client.get(viewer_url(document))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Version 1" in html  # the versions are listed ...
    assert "restore" not in html.lower()  # ... without a way to restore one


def test_a_restore_via_the_form_makes_the_next_version_on_the_same_content(document):
    client = signed_in(Role.EXAMINER, enforce_csrf_checks=True)
    page = client.get(viewer_url(document)).content.decode()
    token = re.search(
        rf'action="{restore_url(document, 1)}">\s*<input type="hidden" '
        r'name="csrfmiddlewaretoken" value="([^"]+)"',
        page,
    ).group(1)

    response = client.post(
        restore_url(document, 1), {"reason": "page 2 was wrong", "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{viewer_url(document)}?version=3"
    restored = Version.objects.get(document=document, number=3)
    assert restored.blob_id == hashlib.sha256(FIRST).hexdigest()
    assert restored.blob_id == Version.objects.get(document=document, number=1).blob_id
    document.refresh_from_db()
    assert document.latest_version == 3
    audit = AuditEvent.objects.get(action="document.restore")
    assert audit.detail["reason"] == "page 2 was wrong"
    assert audit.detail["restored_from"] == 1
    shown = client.get(response["Location"]).content.decode()
    assert "Version 1 restored as version 3." in shown
    assert re.search(r'<li aria-current="true">\s*<a href="\?version=3">', shown)


def test_a_post_without_the_csrf_token_is_refused(document):
    client = signed_in(Role.EXAMINER, enforce_csrf_checks=True)
    response = client.post(restore_url(document, 1), {"reason": "page 2 was wrong"})
    assert response.status_code == 403
    assert version_count(document) == 2


@pytest.mark.parametrize("reason", [None, "", "   "], ids=["absent", "empty", "blank"])
def test_a_missing_reason_is_refused_and_changes_nothing(document, reason):
    client = signed_in(Role.EXAMINER)
    body = {} if reason is None else {"reason": reason}
    response = client.post(restore_url(document, 1), body, follow=True)
    assert response.redirect_chain == [(f"{viewer_url(document)}?version=1", 302)]
    assert "Give a reason to restore a version." in response.content.decode()
    assert version_count(document) == 2
    assert not AuditEvent.objects.filter(action="document.restore").exists()


def test_a_reason_longer_than_the_api_allows_is_refused(document):
    response = signed_in(Role.EXAMINER).post(
        restore_url(document, 1), {"reason": "x" * 2001}, follow=True
    )
    assert "The reason is too long (at most 2000 characters)." in response.content.decode()
    assert version_count(document) == 2


@pytest.mark.parametrize("client", [Client(), None], ids=["anonymous", "no-role"])
def test_a_user_without_the_role_gets_403(document, client):
    client = client or signed_in(None)
    response = client.post(restore_url(document, 1), {"reason": "back"})
    assert response.status_code == 403
    assert version_count(document) == 2


def test_a_cancelled_document_shows_why_it_refuses(document):
    actions.cancel_document(document, reason="duplicate", actor=Actor(label="t"))
    response = signed_in(Role.EXAMINER).post(
        restore_url(document, 1), {"reason": "back"}, follow=True
    )
    assert "The document is cancelled; it takes no new versions." in response.content.decode()
    assert version_count(document) == 2


def test_an_unknown_version_is_a_404(document):
    response = signed_in(Role.EXAMINER).post(restore_url(document, 9), {"reason": "back"})
    assert response.status_code == 404
    assert version_count(document) == 2


def test_restore_takes_no_get(document):
    assert signed_in(Role.EXAMINER).get(restore_url(document, 1)).status_code == 405


def test_the_button_and_the_message_are_translated(document):
    client = signed_in(Role.EXAMINER)
    client.post("/i18n/setlang/", {"language": "fr"})
    assert "Restaurer cette version" in client.get(viewer_url(document)).content.decode()
    response = client.post(restore_url(document, 1), {"reason": "retour"}, follow=True)
    assert "Version 1 restaurée en tant que version 3." in response.content.decode()


def test_an_expunged_version_offers_no_restore_and_refuses_one(document):
    actions.expunge_document(
        document, reason="court order", reference="C-1/26", actor=Actor(label="t"), versions=[1]
    )
    client = signed_in(Role.EXAMINER)
    page = client.get(viewer_url(document))
    assert page.status_code == 200 and "Version 1" in page.content.decode()
    assert restore_url(document, 1) not in page.content.decode()
    response = client.post(restore_url(document, 1), {"reason": "back"}, follow=True)
    assert "This version was expunged; it cannot be restored." in response.content.decode()
    assert version_count(document) == 2
