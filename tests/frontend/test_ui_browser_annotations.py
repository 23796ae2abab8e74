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
    page.locator("#note-form").get_by_label("Shared with the examining division").check()
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


def _overlap(a: dict, b: dict) -> float:
    """How much of box `a` lies inside box `b` (0 to 1)."""
    width = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    height = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(width, 0) * max(height, 0) / (a["width"] * a["height"])


def _after(spans: list, index: int) -> int:
    """The index of the first of `spans` after `spans[index]` that starts on a line below it."""
    box = spans[index].bounding_box()
    for later in range(index + 1, len(spans)):
        other = spans[later].bounding_box()
        if other["y"] >= box["y"] + box["height"] * 0.8 and spans[later].inner_text().strip():
            return later
    raise AssertionError("no line below")


def test_a_highlight_of_text_on_page_2_holds_at_another_zoom_and_leaves_the_sha256(page, examiner):
    original = FIVE_PAGES.read_bytes()
    digest = hashlib.sha256(original).hexdigest()
    dossier = create_dossier("BG/P/2024/6262", title="Escapement")
    document = file_document(
        dossier, original, type_code="DESC", filename="description.pdf", title="Description"
    )
    content_url = f"/api/v1/documents/{document.id}/versions/1/content"

    sign_in(page, "erika")
    page.goto(f"/documents/{document.id}?page=2")
    page.wait_for_selector("#notes-panel[data-loaded='true']")
    page.wait_for_selector("#viewer-root[data-first-paint='2']")
    # The first line of text on page 2, selected with the mouse from its start to its end.
    spans = page.locator(".page[data-page-number='2'] .textLayer span[role='presentation']")
    spans.first.wait_for()
    lines = spans.all()
    first = next(n for n, span in enumerate(lines) if len(span.inner_text().strip()) > 10)
    line = lines[first]
    words = line.inner_text().strip()
    box = line.bounding_box()
    page.mouse.move(box["x"] + 1, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.move(box["x"] + box["width"] - 1, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()

    page.keyboard.press("h")  # the shortcut does what the toolbar's "Highlight" does
    form = page.locator("#highlight-form")
    form.wait_for()
    assert words[:10] in page.locator("#highlight-quote").inner_text()
    page.locator("#highlight-text").fill("Anticipated by D1")
    form.get_by_label("Green").check()
    form.get_by_label("Shared with the examining division").check()
    page.get_by_role("button", name="Save highlight").click()
    page.wait_for_selector("#notes-panel[data-saved]")

    made = Annotation.objects.get()
    assert (made.kind, made.page, made.colour, made.visibility, made.text) == (
        "highlight",
        2,
        "#7bd389",
        "shared",
        "Anticipated by D1",
    )
    assert words[:10] in made.quote
    assert 1 <= len(made.rects) <= 3
    assert all(0 <= v <= 1 for rect in made.rects for v in rect)

    # Two lines selected and highlighted from the toolbar: one box a line.
    start = _after(lines, first)
    end = _after(lines, start)
    start, end = lines[start], lines[end]
    start_box = start.bounding_box()
    end_box = end.bounding_box()
    page.mouse.move(start_box["x"] + 1, start_box["y"] + start_box["height"] / 2)
    page.mouse.down()
    page.mouse.move(end_box["x"] + 5, end_box["y"] + end_box["height"] / 2, steps=5)
    page.mouse.move(
        end_box["x"] + end_box["width"] - 1, end_box["y"] + end_box["height"] / 2, steps=5
    )
    page.mouse.up()
    page.get_by_role("button", name="Highlight", exact=True).click()
    page.get_by_role("button", name="Save highlight").click()
    page.locator("#note-list li").nth(1).wait_for()
    two_lines = Annotation.objects.exclude(pk=made.pk).get()
    assert (two_lines.page, two_lines.colour, two_lines.visibility) == (2, "#ffd400", "private")
    assert start.inner_text().strip()[:8] in two_lines.quote
    assert end.inner_text().strip()[-8:] in two_lines.quote
    boxes = sorted(two_lines.rects, key=lambda rect: rect[1])
    assert 2 <= len(boxes) <= 4  # the two lines (and any line between), not a box a word
    assert boxes[-1][1] >= boxes[0][3] - 0.005  # on lines one below the other

    # Reloaded at 200 %: drawn on page 2 over the same words.
    page.reload()
    page.wait_for_selector("#notes-panel[data-loaded='true']")
    page.wait_for_selector("#viewer-root[data-first-paint='2']")
    width_before = page.locator(".page[data-page-number='2']").bounding_box()["width"]
    page.select_option("#zoom", "2")
    tinted = page.locator(
        f".page[data-page-number='2'] .note-highlight[data-annotation='{made.id}']"
    )
    tinted.first.wait_for()
    page_box = page.locator(".page[data-page-number='2']").bounding_box()
    assert page_box["width"] != pytest.approx(width_before, rel=0.05)
    line = page.locator(".page[data-page-number='2'] .textLayer span", has_text=words).first
    line.scroll_into_view_if_needed()
    tinted.first.wait_for()
    line_box = line.bounding_box()
    tint_boxes = [tint.bounding_box() for tint in tinted.all()]
    assert max(_overlap(line_box, tint) for tint in tint_boxes) > 0.8
    assert page.locator(".page[data-page-number='1'] .note-highlight").count() == 0
    listed = page.locator(f"#note-list li[data-annotation='{made.id}']")
    assert words[:10] in listed.locator("q.note-quote").inner_text()
    assert listed.locator(".note-text").inner_text() == "Anticipated by D1"

    # Its author changes the colour and makes it private again.
    listed.get_by_role("button", name="Edit").click()
    form.get_by_label("Pink").check()
    form.get_by_label("Shared with the examining division").uncheck()
    page.get_by_role("button", name="Save highlight").click()
    page.wait_for_selector("#highlight-form[hidden]", state="attached")
    made.refresh_from_db()
    assert (made.colour, made.visibility) == ("#ff9ec7", "private")

    # The original is what was filed: same bytes, same SHA-256, same blob.
    served = page.request.get(content_url)
    assert hashlib.sha256(served.body()).hexdigest() == digest
    assert Version.objects.get(document=document, number=1).blob_id == digest

    # The dossier page lists it with the text it covers.
    page.goto("/dossiers/BG/P/2024/6262")
    row = page.locator(f"#notes-list tr[data-annotation='{made.id}']")
    assert words[:10] in row.locator("q.note-quote").inner_text()
    assert "Anticipated by D1" in row.inner_text()
