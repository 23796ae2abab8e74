"""A three-page G4 TIFF fax in a real browser (Debian's Chromium driven by Playwright): found by a
word on its third page, opened from the hit on that page, shown by pdf.js through the PDF/A its
OCR made; a fax no reader decodes says why and what to do where it would be shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from dossier.roles import Role
from ingest.pipeline import run_to_completion
from search import indexer
from tests.browser_support import PASSWORD, sign_in
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.ingest_support import OCR_PROGRAMS, require_programs
from tests.ingest_support import require_font as font
from tests.scans import g4_tiff
from tests.scans import page as scanned_page

# Serialized rollback restores the migrations' rows (groups, document types) after each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
WORDS = ("Escapement", "Pendulum", "Tourbillon")


@pytest.fixture
def examiner_user(transactional_db):
    return UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)


def filed_fax(content: bytes):
    dossier = create_dossier("BG/P/2024/7070", title="Clockwork")
    document = file_document(
        dossier, content, type_code="DESC", filename="fax.tif", title="Faxed description"
    )
    run_to_completion(document.versions.get().id)
    return document


def test_a_three_page_g4_fax_is_found_by_its_third_page_and_viewed(
    page, examiner_user, search_backend
):
    require_programs(*OCR_PROGRAMS)
    dejavu = font("DejaVu Sans")
    fax = g4_tiff(
        [scanned_page([f"Facsimile page {n}: {word}"], dejavu) for n, word in enumerate(WORDS, 1)]
    )
    filed_fax(fax)
    indexer.sync()

    sign_in(page, "erika")
    page.goto("/search")
    page.get_by_label("Query").fill("tourbillon")
    page.get_by_role("button", name="Search").last.click()
    page.wait_for_selector(".hit")
    assert "Faxed description" in page.locator(".hit h3").first.inner_text()
    assert "page 3" in page.locator(".hit .meta").first.inner_text()
    page.locator(".hit h3 a").first.click()
    page.wait_for_selector("#viewer-root[data-ready='true']")
    assert page.locator("#page-count").inner_text() == "3"
    page.wait_for_selector("#viewer-root[data-current-page='3']")
    # pdf.js painted the fax's third page and its OCR text layer, and found the word there.
    page.wait_for_selector(".page[data-page-number='3'] canvas")
    highlight = page.locator(".page[data-page-number='3'] .textLayer .highlight").first
    highlight.wait_for()
    assert "tourbillon" in highlight.inner_text().lower()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "g4-fax-page-3.png"), full_page=True)


def test_a_fax_no_reader_decodes_says_why_and_what_to_do(page, examiner_user):
    require_programs(*OCR_PROGRAMS)
    document = filed_fax(b"II*\x00" + b"\x00" * 64)  # a TIFF header, and no image after it

    sign_in(page, "erika")
    page.goto(f"/documents/{document.id}")
    failure = page.locator("#viewer-failure")
    assert "the image cannot be read" in failure.inner_text()
    assert "Ask for the image again as PDF, PNG, JPEG or TIFF." in failure.inner_text()
    assert page.locator("#text-view").count() == 0
    assert "No extracted text yet" not in page.content()
