"""A hit on page 2 of a born-digital PDF opens the viewer on page 2 (issue 16, point 1), and so
does the public's hit on page 2 of a redacted copy (on the copy): the PDFs are made in the test,
ingested by the real pipeline (their text extracted page by page) and indexed by the real
indexer; Chromium searches, clicks the hit and finds the term highlighted there."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.roles import Role
from ingest import pipeline
from search import indexer
from tests.browser_support import PASSWORD, sign_in
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.pages_support import THREE_PAGES, paged_pdf

# Serialized rollback restores the migrations' rows (groups, document types) after each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_hit_on_page_two_of_a_born_digital_pdf_opens_on_page_two(page, search_backend, settings):
    settings.EDMS_PAGE_IMAGE_MIN_BYTES = 0  # a small PDF: shown first as an image all the same
    UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)
    dossier = create_dossier(
        "BG/P/2024/4343",
        title="Clock movement",
        published_at=timezone.localdate() - dt.timedelta(days=3),
    )
    document = file_document(
        dossier, paged_pdf(*THREE_PAGES), type_code="DESC", filename="description.pdf"
    )
    pipeline.process_version(document.versions.get().id)
    indexer.sync()

    sign_in(page, "erika")
    page.goto("/search")
    page.get_by_label("Query").fill("escapement")
    page.get_by_role("button", name="Search").last.click()
    page.wait_for_selector(".hit")
    assert page.locator(".hit .snippet mark").first.inner_text().lower() == "escapement"
    assert "page 2" in page.locator(".hit .meta").first.inner_text()
    page.locator(".hit h3 a").first.click()
    page.wait_for_selector("#viewer-root[data-ready='true']")
    page.wait_for_selector("#viewer-root[data-current-page='2']")
    assert page.locator("#page-number").input_value() == "2"
    # What showed first was the server's image of page 2 (issue 16, point 2), gone once pdf.js
    # drew the page.
    root = page.locator("#viewer-root")
    assert (root.get_attribute("data-first-paint"), root.get_attribute("data-first-paint-by")) == (
        "2",
        "image",
    )
    page.wait_for_selector("#viewer-root[data-pdf-paint]")
    page.wait_for_function("() => !document.querySelector('.page-stand-in')")
    # The query's term, and only it, is highlighted, in page 2's text layer.
    highlight = page.locator(".page[data-page-number='2'] .textLayer .highlight").first
    highlight.wait_for()
    highlights = page.locator(".textLayer .highlight")
    assert {text.strip().lower() for text in highlights.all_inner_texts()} == {"escapement"}


def test_a_public_hit_on_page_two_of_a_redacted_copy_opens_the_copy_on_page_two(
    page, search_backend, settings
):
    """The public reads the document through its redacted copy: its hit names the copy's page
    (counted in the copy's own text, page by page), the viewer opens the copy there, and the
    word under the redaction box is found nowhere."""
    settings.EDMS_PAGE_IMAGE_MIN_BYTES = 0
    secret = "Zanzibarov"
    dossier = create_dossier(
        "BG/P/2024/4344",
        title="Clock movement",
        published_at=timezone.localdate() - dt.timedelta(days=3),
    )
    first, last = THREE_PAGES[0], THREE_PAGES[2]
    original = paged_pdf(first, f"Applicant {secret}: the escapement and gear train.", last)
    copy = paged_pdf(first, "Applicant [redacted]: the escapement and gear train.", last)
    document = file_document(
        dossier, original, type_code="DESC", filename="description.pdf", visibility="public"
    )
    version = document.versions.get()
    pipeline.process_version(version.id)
    staged = blobstore.spool([copy], filename="description.redacted.pdf")
    actions.store_redacted_copy(version, staged, actor=Actor(label="tests"))
    indexer.sync()

    page.goto(f"/search?q={secret}")
    assert page.locator(".hit").count() == 0
    page.goto("/search")
    page.get_by_label("Query").fill("escapement")
    page.get_by_role("button", name="Search").last.click()
    page.wait_for_selector(".hit")
    assert "page 2" in page.locator(".hit .meta").first.inner_text()
    assert secret not in page.content()
    page.locator(".hit h3 a").first.click()
    page.wait_for_selector("#viewer-root[data-ready='true']")
    page.wait_for_selector("#viewer-root[data-current-page='2']")
    assert page.locator("#page-number").input_value() == "2"
    highlight = page.locator(".page[data-page-number='2'] .textLayer .highlight").first
    highlight.wait_for()
    assert page.locator(".page[data-page-number='2'] .textLayer").inner_text().count("[redacted]")
    assert secret not in page.content()
    page.wait_for_load_state("networkidle")  # pdf.js done fetching before teardown
