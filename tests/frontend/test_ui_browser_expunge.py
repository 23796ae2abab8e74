"""Expunging a version in a real browser (Debian's Chromium, see `tests/browser_support.py`): the
browser itself holds the form back until the reason, the reference and the confirming tick are
given; then the version is a tombstone."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import Version
from tests.browser_support import PASSWORD, sign_in
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory

# Serialized rollback restores the migrations' rows (groups, document types) after each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

MISTAKE = b"another applicant's claims, filed here by mistake"


@pytest.fixture
def document(transactional_db):
    dossier = create_dossier(
        "BG/P/2023/7", published_at=timezone.localdate() - dt.timedelta(days=1)
    )
    document = file_document(dossier, b"the claims as filed", filename="claims.txt")
    actions.add_version(
        document, blobstore.spool([MISTAKE], filename="claims.txt"), actor=Actor(label="t")
    )
    return document


def test_an_admin_expunges_a_version_once_every_field_and_the_tick_are_given(page, document):
    UserFactory(username="ada", password=PASSWORD, is_superuser=True)
    sign_in(page, "ada")
    page.goto(f"/documents/{document.id}?version=2")
    form = page.locator(f'form[action="/documents/{document.id}/versions/2/expunge"]')
    page.locator("details.expunge", has=form).locator("summary").click()
    submit = form.get_by_role("button", name="Expunge this version")

    form.locator("#expunge-reason-2").fill("papers of another applicant")
    form.locator("#expunge-reference-2").fill("Court order 12/2026")
    submit.click()
    # Not ticked: the browser does not send the form.
    assert form.evaluate("f => f.checkValidity()") is False
    assert page.url.endswith("?version=2")
    assert not Version.objects.filter(document=document, expunged_at__isnull=False).exists()

    form.get_by_label("I understand the content cannot be brought back.").check()
    with page.expect_navigation():
        submit.click()

    assert "Version 2 expunged." in page.locator("ul.messages").inner_text()
    tombstone = page.locator("#tombstone")
    assert "Version 2 was expunged" in tombstone.inner_text()
    assert hashlib.sha256(MISTAKE).hexdigest() in tombstone.inner_text()
    assert "Court order 12/2026" in tombstone.inner_text()
    expunged = Version.objects.get(document=document, number=2)
    assert expunged.expunged_at is not None and expunged.expunge_reference == "Court order 12/2026"
    assert not blobstore.exists(expunged.blob_id)
