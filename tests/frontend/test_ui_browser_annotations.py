"""Notes on a PDF's pages in a real browser (Debian's Chromium, `tests/browser_support.py`):
a note added at a point on a page is there after a reload, at the same place, listed on the
dossier page, and deleted by its author; the original and its SHA-256 never change."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.conf import settings

from annotations.models import Annotation
from dossier.models import AuditEvent, Version
from dossier.roles import Role
from tests.browser_support import PASSWORD, sign_in
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CORPUS = Path(settings.BASE_DIR).parent / "shared" / "corpus"
# A born-digital PDF of five pages (pdf.js's own test file).
FIVE_PAGES = CORPUS / "pdf" / "851fb6bf_file_pdfjs_test.pdf"


@pytest.fixture
def examiner(transactional_db):
    return UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)


def test_a_note_round_trip_leaves_the_original_and_its_sha256_unchanged(page, examiner):
    original = FIVE_PAGES.read_bytes()
    digest = hashlib.sha256(original).hexdigest()
    dossier = create_dossier("BG/P/2024/6060", title="Escapement")
    document = file_document(
        dossier, original, type_code="DESC", filename="description.pdf", title="Description"
    )
    content_url = f"/api/v1/documents/{document.id}/versions/1/content"

    sign_in(page, "erika")
    page.goto(f"/documents/{document.id}")
    page.wait_for_selector("#viewer-root[data-ready='true']")
    page.wait_for_selector("#notes-panel[data-loaded='true']")
    page.wait_for_selector(".page[data-page-number='1'] canvas")

    page.get_by_role("button", name="Add note").click()
    first_page = page.locator(".page[data-page-number='1']")
    box = first_page.bounding_box()
    first_page.click(position={"x": box["width"] * 0.4, "y": box["height"] * 0.3})
    page.locator("#note-text").fill("Compare with D1, column 3")
    page.get_by_label("Shared with the examining division").check()
    page.get_by_role("button", name="Save note").click()
    page.wait_for_selector("#note-list li")
    page.wait_for_selector(".page[data-page-number='1'] .note-marker[data-annotation]")

    note = Annotation.objects.get()
    assert (note.page, note.kind, note.visibility, note.text) == (
        1,
        "note",
        "shared",
        "Compare with D1, column 3",
    )
    assert note.rect[0] == pytest.approx(0.4, abs=0.02)
    assert note.rect[1] == pytest.approx(0.3, abs=0.02)

    # After a reload the note is loaded again, listed and drawn where it was put.
    page.reload()
    page.wait_for_selector("#notes-panel[data-loaded='true']")
    assert page.locator("#note-list li .note-text").all_inner_texts() == [
        "Compare with D1, column 3"
    ]
    marker = page.locator(f".page[data-page-number='1'] .note-marker[data-annotation='{note.id}']")
    marker.wait_for()
    page_box = page.locator(".page[data-page-number='1']").bounding_box()
    marker_box = marker.bounding_box()
    centre_x = marker_box["x"] + marker_box["width"] / 2 - page_box["x"]
    assert centre_x / page_box["width"] == pytest.approx(0.4, abs=0.03)

    # The original is what was filed: same bytes, same SHA-256, same blob.
    served = page.request.get(content_url)
    assert served.status == 200
    assert hashlib.sha256(served.body()).hexdigest() == digest
    assert Version.objects.get(document=document, number=1).blob_id == digest

    # The dossier page counts and lists it.
    page.goto("/dossiers/BG/P/2024/6060")
    assert page.locator("#wrapper a.badge.notes").inner_text() == "1 note"
    assert "Compare with D1, column 3" in page.locator("#notes-list").inner_text()

    # Its author deletes it from the viewer.
    page.locator("#notes-list a", has_text="Description").click()
    page.wait_for_selector("#notes-panel[data-loaded='true']")
    page.get_by_role("button", name="Delete: Compare with D1, column 3").click()
    page.wait_for_selector("#notes-empty:not([hidden])")
    assert not Annotation.objects.exists()
    assert sorted(
        AuditEvent.objects.filter(object_type="annotation").values_list("action", flat=True)
    ) == ["annotation.add", "annotation.delete"]
    assert hashlib.sha256(page.request.get(content_url).body()).hexdigest() == digest
