"""Scans and long PDFs open at once (issue 16, point 2), in a real browser (Debian's Chromium
driven by Playwright): the bytes of the document the browser received before pdf.js painted the
first page are at most a tenth of the file, for a 40-page OCR'd scan shown through its PDF/A and
for a 352-page born-digital PDF that its producer linearized.

The bytes are the body sizes of the document's requests (the page's resource timing) that had
completed when the viewer reported its first paint (`data-first-paint`, set on pdf.js's
`pagerendered`); what pdf.js asks for afterwards (the other pages' dictionaries, thumbnails) is
not counted."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import img2pdf
import pikepdf
import pytest
from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

from dossier import blobstore
from dossier.models import RenditionKind
from dossier.roles import Role
from ingest.models import Processing
from ingest.pipeline import run_to_completion
from tests.browser_support import PASSWORD, sign_in
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.ingest_support import OCR_PROGRAMS, require_programs
from tests.ingest_support import require_font as font

# Serialized rollback restores the migrations' rows (groups, document types) after each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CORPUS = Path(settings.BASE_DIR).parent / "shared" / "corpus"
# 352 pages, 2.6 MB, linearized (Lessig's "Free Culture", from pdf.js's test files).
LARGE_PDF = CORPUS / "pdf" / "753441c6_freeculture.pdf"
GOAL = 0.10  # of the file's bytes, before the first page shows


@pytest.fixture
def examiner_user(transactional_db):
    return UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)


def noisy_scan(pages: int, font_path: str) -> bytes:
    """A PDF of `pages` scanned pages (150 dpi greyscale JPEGs of grey paper noise and a line of
    text, about 180 kB each), without a text layer: what a scanner delivers for OCR."""
    type_face = ImageFont.truetype(font_path, 40)
    images = []
    for number in range(1, pages + 1):
        paper = Image.frombytes("L", (1240, 1754), os.urandom(1240 * 1754))
        paper = paper.point(lambda value: 215 + value * 24 // 255)
        ImageDraw.Draw(paper).text(
            (150, 150), f"Scanned page {number} of the priority document", font=type_face, fill=0
        )
        buffer = io.BytesIO()
        paper.save(buffer, format="JPEG", quality=60, dpi=(150, 150))
        images.append(buffer.getvalue())
    return img2pdf.convert(images)


# Notes the moment the viewer reports its first paint, as the attribute is set (a mutation
# observer's callback runs before anything else happens on the page).
FIRST_PAINT_CLOCK = """
new MutationObserver((changes, observer) => {
  if (document.getElementById("viewer-root")?.dataset.firstPaint) {
    window.firstPaintAt = performance.now();
    observer.disconnect();
  }
}).observe(document, { subtree: true, attributeFilter: ["data-first-paint"] });
"""
# The document's requests (the content or rendition URL) that had completed by then.
BYTES_BY_FIRST_PAINT = """
(url) => performance.getEntriesByType("resource")
  .filter((entry) => entry.name.startsWith(url) && entry.responseEnd <= window.firstPaintAt)
  .map((entry) => [entry.encodedBodySize, entry.decodedBodySize])
"""


def bytes_before_first_paint(page, url: str) -> tuple[int, list[str]]:
    """Open the viewer at `url`; the bytes of the document received before its first page was
    painted (from the page's resource timing, completed requests only), and those requests'
    sizes (for a failure's message)."""
    page.add_init_script(FIRST_PAINT_CLOCK)
    page.goto(url)
    page.wait_for_selector("#viewer-root[data-first-paint]")
    assert page.locator(".page canvas").count() >= 1
    document_url = page.locator("#viewer-root").get_attribute("data-url").split("?")[0]
    absolute = page.evaluate("(path) => new URL(path, location.href).href", document_url)
    entries = page.evaluate(BYTES_BY_FIRST_PAINT, absolute)
    # Ranges of the stored bytes, never compressed on the way (a range of a gzip stream would
    # not be the bytes the ETag names).
    assert all(sent == received for sent, received in entries), entries
    fetched = sum(sent for sent, _ in entries)
    sizes = [str(sent) for sent, _ in entries]
    print(f"{url}: {fetched} bytes in {len(entries)} requests before the first paint ({sizes})")
    return fetched, sizes


def test_a_40_page_scan_shows_its_first_page_after_a_tenth_of_its_pdfa(page, examiner_user):
    require_programs(*OCR_PROGRAMS)
    scan = noisy_scan(40, font("DejaVu Sans"))
    dossier = create_dossier("BG/P/2024/4040", title="A scanned priority document")
    document = file_document(
        dossier, scan, type_code="DESC", filename="scan.pdf", title="Scanned description"
    )
    version = document.versions.get()
    run_to_completion(version.id)
    made = version.renditions.filter(kind=RenditionKind.PDFA).first()
    assert made, Processing.objects.get(version=version).steps
    rendition = made
    size = rendition.blob.size
    content = b"".join(blobstore.read_chunks(rendition.blob_id))
    with pikepdf.open(io.BytesIO(content)) as pdf:
        assert len(pdf.pages) == 40
        # Not linearized: pdf.js reads the cross-reference table at the end with one range.
        assert not pdf.is_linearized

    sign_in(page, "erika")
    fetched, requests = bytes_before_first_paint(page, f"/documents/{document.id}")
    assert page.locator("#page-count").inner_text() == "40"
    assert len(requests) >= 2, requests  # the first request, then ranges
    assert fetched <= GOAL * size, f"{fetched} of {size} bytes before page 1 showed: {requests}"


def test_a_352_page_linearized_pdf_shows_its_first_page_after_a_tenth_more(page, examiner_user):
    """The book's first page is its cover, a 268 kB JPEG: its objects alone are 10.8 % of the
    file (the linearization dictionary's /E, where the first page's section ends). The goal here
    is that little else is fetched: at most a further tenth of the file."""
    with pikepdf.open(LARGE_PDF) as pdf:
        assert len(pdf.pages) == 352
    first_page_end = int(re.search(rb"/E (\d+)", LARGE_PDF.read_bytes()[:1024])[1])
    dossier = create_dossier("BG/P/2024/352", title="A long book")
    document = file_document(
        dossier, LARGE_PDF.read_bytes(), type_code="DESC", filename="book.pdf", title="Book"
    )
    size = LARGE_PDF.stat().st_size

    sign_in(page, "erika")
    fetched, requests = bytes_before_first_paint(page, f"/documents/{document.id}")
    assert page.locator("#page-count").inner_text() == "352"
    assert fetched <= first_page_end + GOAL * size, (
        f"{fetched} of {size} bytes before page 1 ({first_page_end} bytes) showed: {requests}"
    )
