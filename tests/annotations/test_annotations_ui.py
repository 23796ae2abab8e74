"""Notes in the UI over Django's test client: the file wrapper counts each document's notes and
lists those the reader may see; its ZIP carries them only when asked; the public sees none,
and the viewer offers notes to staff only."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from django.test import Client

from annotations import actions
from dossier.audit import Actor
from dossier.models import Version
from dossier.roles import Role
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.redaction_support import text_pdf

pytestmark = pytest.mark.django_db

KEY = "BG/P/2024/000654"
POINT = [0.5, 0.5, 0.5, 0.5]


@pytest.fixture
def case():
    dossier = create_dossier(KEY, published_at=dt.date(2024, 9, 1))
    claims = file_document(dossier, b"1. A widget.", visibility="public", title="Claims")
    letter = file_document(dossier, b"Dear applicant", type_code="REQ", title="Letter")
    erika = UserFactory(username="erika", role=Role.EXAMINER)
    otto = UserFactory(username="otto", role=Role.EXAMINER)
    version = Version.objects.get(document=claims, number=1)

    def note(user, text, visibility="private"):
        actions.add_annotation(
            version, actor=Actor(user=user), page=1, rect=POINT, text=text, visibility=visibility
        )

    note(erika, "erika's own")
    note(otto, "otto shares", visibility="shared")
    note(otto, "otto's own")
    return {"claims": claims, "letter": letter, "erika": erika, "otto": otto}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_file_wrapper_counts_and_lists_the_notes_the_reader_may_see(case):
    page = signed_in(case["erika"]).get(f"/dossiers/{KEY}").content.decode()
    assert 'data-notes="2"' in page  # erika's own and otto's shared one
    assert "erika&#x27;s own" in page and "otto shares" in page
    assert "otto&#x27;s own" not in page
    assert page.count('class="badge notes"') == 1  # the letter has none


def test_the_notes_cost_the_file_wrapper_one_query(case, django_assert_max_num_queries):
    client = signed_in(case["erika"])
    client.get(f"/dossiers/{KEY}")  # warm caches (content types, permissions)
    # As many as the page without notes (tests/frontend/test_ui_views.py, whose bound counts
    # the DAS requests' query too): the counts come from the list.
    with django_assert_max_num_queries(14):
        page = client.get(f"/dossiers/{KEY}").content.decode()
    assert 'data-notes="2"' in page


def test_notes_are_counted_in_the_readers_language(case):
    client = signed_in(case["erika"])
    page = client.get(f"/dossiers/{KEY}", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "2 notes" in page and "Partagée" in page
    page = client.get(f"/dossiers/{KEY}", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert "ملاحظتان" in page


def test_the_public_sees_no_note_and_no_offer_to_write_one(case):
    public = Client()
    page = public.get(f"/dossiers/{KEY}").content.decode()
    assert "otto shares" not in page and 'id="notes"' not in page
    assert "zip-annotations" not in page
    viewer = public.get(f"/documents/{case['claims'].id}").content.decode()
    assert "notes-panel" not in viewer and "add-note" not in viewer


def test_the_viewer_offers_notes_on_a_pdfs_pages_to_staff(case):
    pdf = file_document(
        case["claims"].dossier, text_pdf("1. A widget."), filename="claims.pdf", visibility="public"
    )
    erika = signed_in(case["erika"])
    viewer = erika.get(f"/documents/{pdf.id}").content.decode()
    assert f'data-url="/api/v1/documents/{pdf.id}/versions/1/annotations"' in viewer
    assert 'id="add-note"' in viewer
    # Notes go on pdf.js's pages: a text file shown as its text has none.
    assert "notes-panel" not in erika.get(f"/documents/{case['claims'].id}").content.decode()
    assert "notes-panel" not in Client().get(f"/documents/{pdf.id}").content.decode()


def zip_of(client, *documents, **extra) -> zipfile.ZipFile:
    data = {"document": [str(d.id) for d in documents], **extra}
    response = client.post(f"/dossiers/{KEY}/zip", data)
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_zip_carries_the_notes_only_when_asked(case):
    client = signed_in(case["erika"])
    assert "annotations.json" not in zip_of(client, case["claims"]).namelist()
    archive = zip_of(client, case["claims"], case["letter"], annotations="1")
    body = json.loads(archive.read("annotations.json"))
    assert body["dossier"] == KEY
    assert sorted(n["text"] for n in body["annotations"]) == ["erika's own", "otto shares"]
    # The originals go in unchanged beside it.
    originals = [archive.read(n) for n in archive.namelist() if n != "annotations.json"]
    assert sorted(originals) == [b"1. A widget.", b"Dear applicant"]
