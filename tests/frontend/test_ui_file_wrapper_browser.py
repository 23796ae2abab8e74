"""The file wrapper in a real browser (Debian's Chromium, `tests/browser_support.py`): two rows
ticked give one merged PDF with a bookmark each; a page of rows is one tab stop, walked with the
arrow keys; a row's first page shows on hover."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pikepdf
import pytest
from django.conf import settings

from dossier.models import AuditEvent, RenditionKind
from dossier.roles import Role
from ingest.renditions import save_rendition
from tests.browser_support import PASSWORD, sign_in
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.redaction_support import text_pdf
from tests.ui_support import large_dossier

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CORPUS = Path(settings.BASE_DIR).parent / "shared" / "corpus"
FIVE_PAGES = CORPUS / "pdf" / "851fb6bf_file_pdfjs_test.pdf"
# A real PNG: the first page of a document, as processing renders it.
PNG = CORPUS / "image" / "73a98cfe_smile.png"


@pytest.fixture
def examiner(transactional_db):
    return UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)


def test_two_rows_ticked_give_one_pdf_with_a_bookmark_each(page, examiner, tmp_path):
    dossier = create_dossier("BG/P/2024/5151", title="Escapement")
    description = file_document(
        dossier,
        FIVE_PAGES.read_bytes(),
        type_code="DESC",
        filename="description.pdf",
        title="Description",
        official_date=dt.date(2024, 2, 1),
    )
    claims = file_document(
        dossier,
        text_pdf("1. An escapement with a pallet."),
        type_code="CLM",
        filename="claims.pdf",
        title="Claims as filed",
        official_date=dt.date(2024, 1, 15),
    )
    file_document(dossier, text_pdf("Not chosen"), filename="other.pdf", title="Other")
    sign_in(page, "erika")
    page.goto("/dossiers/BG/P/2024/5151")
    page.get_by_label("Select Description").check()
    page.get_by_label("Select Claims as filed").check()
    with page.expect_download() as arrival:
        page.get_by_role("button", name="Selected as one PDF").click()
    download = arrival.value
    assert download.suggested_filename == "BG-P-2024-005151.pdf"
    saved = tmp_path / "merged.pdf"
    download.save_as(saved)
    with pikepdf.open(saved) as pdf:
        assert len(pdf.pages) == 1 + 5
        with pdf.open_outline() as outline:
            assert [item.title for item in outline.root] == [
                "2024-01-15 · CLM Claims · Claims as filed",
                "2024-02-01 · DESC Description · Description",
            ]
    read = AuditEvent.objects.filter(action="document.download")
    assert {event.object_id for event in read} == {str(description.id), str(claims.id)}


def test_a_page_of_rows_is_one_tab_stop_walked_with_the_arrow_keys(page, examiner):
    large_dossier("BG/P/2020/500", 500)
    sign_in(page, "erika")
    page.goto("/dossiers/BG/P/2020/500")
    rows = page.locator("#wrapper tbody tr[data-document]")
    assert rows.count() == 100
    tabbable = page.evaluate(
        """() => Array.from(document.querySelectorAll('#wrapper tbody a, #wrapper tbody input'))
                .filter((element) => element.tabIndex >= 0).length"""
    )
    assert tabbable == 1
    # Tab from the last heading lands on the first row's checkbox.
    page.locator("#wrapper thead a").last.focus()
    page.keyboard.press("Tab")
    first_box = rows.nth(0).locator("input")
    assert first_box.evaluate("(element) => element === document.activeElement")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    third_link = rows.nth(2).locator("a")
    assert third_link.evaluate("(element) => element === document.activeElement")
    page.keyboard.press("End")  # the last row, same column
    assert rows.nth(99).locator("a").evaluate("(element) => element === document.activeElement")
    page.keyboard.press("Tab")  # leaves the table at once
    left = page.evaluate("() => document.activeElement.closest('#wrapper tbody') === null")
    assert left
    # Shift+Tab comes back to where the reader was, not to the first row.
    page.keyboard.press("Shift+Tab")
    assert rows.nth(99).locator("a").evaluate("(element) => element === document.activeElement")
    # Five pages of 100; the pager keeps the sort.
    page.locator("#wrapper").get_by_role("link", name="Pages", exact=True).click()
    page.get_by_role("link", name="Next").click()
    page.wait_for_url(re.compile(r"\?sort=pages&page=2$"))
    assert "Page 2 of 5" in page.locator(".pager").inner_text()


def test_a_rows_first_page_shows_on_hover(page, examiner):
    dossier = create_dossier("BG/P/2024/5252", title="Escapement")
    document = file_document(dossier, text_pdf("Sheet"), filename="s.pdf", title="Sheet")
    save_rendition(
        document.versions.get(number=1), RenditionKind.THUMBNAIL, str(PNG), "image/png", "t.png"
    )
    sign_in(page, "erika")
    page.goto("/dossiers/BG/P/2024/5252")
    preview = page.locator("img.thumbnail-preview")
    assert preview.is_hidden()
    with page.expect_response(lambda response: "/renditions/thumbnail" in response.url) as seen:
        page.get_by_role("link", name="Sheet").hover()
    assert seen.value.status == 200
    page.wait_for_function(
        "() => { const i = document.querySelector('img.thumbnail-preview');"
        " return !i.hidden && i.complete && i.naturalWidth > 0; }"
    )
