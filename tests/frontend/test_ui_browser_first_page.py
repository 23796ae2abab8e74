"""Scans and long PDFs open at once (issue 16, point 2), in a real browser (Debian's Chromium
driven by Playwright): the page the viewer opens on is painted after at most a tenth of the
file's bytes, for a 40-page OCR'd scan shown through its PDF/A and for a 352-page born-digital
PDF that its producer linearized.

The first paint is the server's image of the page (`data-first-paint`, set when it is on screen;
`data-first-paint-by` says it was the image), laid out where pdf.js then draws the page; the
bytes are the body sizes of the image's and the document's requests (the page's resource
timing) that had completed by then. pdf.js's own first paint (`data-pdf-paint`, on its
`pagerendered`) is measured the same way, the bytes of the document only: what it needs of the
file before it can draw the page. What pdf.js asks for afterwards (the other pages' dictionaries,
thumbnails) is not counted."""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
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
from tests.pages_support import THREE_PAGES, paged_pdf

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


# Notes the moments the viewer reports its first paint (the image or pdf.js) and pdf.js's, as each
# attribute is set (a mutation observer's callback runs before anything else happens on the
# page), and where the image was on screen then.
PAINT_CLOCK = """
window.paintedAt = {};
new MutationObserver(() => {
  const root = document.getElementById("viewer-root");
  if (!root) return;
  if (root.dataset.firstPaint && !window.paintedAt.first) {
    window.paintedAt.first = performance.now();
    const image = document.querySelector("#first-paint img");
    if (image) window.imageBox = image.getBoundingClientRect().toJSON();
  }
  if (root.dataset.pdfPaint && !window.paintedAt.pdf) window.paintedAt.pdf = performance.now();
}).observe(document, { subtree: true, attributeFilter: ["data-first-paint", "data-pdf-paint"] });
"""
# The requests whose URL starts with one of `prefixes` that had completed by the `moment`.
BYTES_BY = """
([prefixes, moment]) => performance.getEntriesByType("resource")
  .filter((entry) => prefixes.some((prefix) => entry.name.startsWith(prefix)))
  .filter((entry) => entry.responseEnd <= window.paintedAt[moment])
  .map((entry) => [entry.name, entry.encodedBodySize, entry.decodedBodySize])
"""


@dataclass
class Paints:
    """What was fetched before the first paint (the image and any of the document) and before
    pdf.js's (the document), in bytes, with the requests' sizes for a failure's message."""

    first: int
    first_requests: list[str]
    pdf: int
    pdf_requests: list[str]


def bytes_before_paints(page, url: str, size: int) -> Paints:
    """Open the viewer at `url` and wait until pdf.js has drawn a page; the bytes received
    before the first paint and before pdf.js's, printed as shares of the file's `size`."""
    page.add_init_script(PAINT_CLOCK)
    page.goto(url)
    page.wait_for_selector("#viewer-root[data-pdf-paint]")
    assert page.locator(".page canvas").count() >= 1
    root = page.locator("#viewer-root")
    assert root.get_attribute("data-first-paint-by") == "image"
    document_url = root.get_attribute("data-url").split("?")[0]
    absolute = page.evaluate("(path) => new URL(path, location.href).href", document_url)
    # The page images of the document: /documents/<id>/versions/<n>/pages/<page>.webp.
    images = page.evaluate(
        "() => new URL('versions/', location.origin + location.pathname + '/').href"
    )

    def fetched(prefixes: list[str], moment: str) -> tuple[int, list[str]]:
        entries = page.evaluate(BYTES_BY, [prefixes, moment])
        # Ranges of the stored bytes, never compressed on the way (a range of a gzip stream
        # would not be the bytes the ETag names).
        assert all(sent == received for _, sent, received in entries), entries
        kinds = [
            f"{'image' if name.startswith(images) else 'pdf'} {sent}" for name, sent, _ in entries
        ]
        return sum(sent for _, sent, _ in entries), kinds

    first, first_requests = fetched([absolute, images], "first")
    pdf, pdf_requests = fetched([absolute], "pdf")
    assert any(kind.startswith("image") for kind in first_requests), first_requests
    print(
        f"{url} ({size} bytes): first paint (the page image) after {first} bytes "
        f"({100 * first / size:.1f} %: {first_requests}); pdf.js's after {pdf} bytes of the "
        f"file ({100 * pdf / size:.1f} %: {len(pdf_requests)} requests)"
    )
    return Paints(first, first_requests, pdf, pdf_requests)


def assert_drawn_where_the_image_was(page, number: int) -> None:
    """pdf.js's page `number` is where the image was shown, at its size (no layout jump; the
    page's 9-pixel transparent border aside), and the image is gone from it once drawn."""
    shown = page.evaluate("() => window.imageBox")
    drawn = page.evaluate(
        """(number) => document.querySelector(`.page[data-page-number="${number}"]`)
             .getBoundingClientRect().toJSON()""",
        number,
    )
    drawn = {
        "x": drawn["x"] + 9,
        "y": drawn["y"] + 9,
        "width": drawn["width"] - 18,
        "height": drawn["height"] - 18,
    }
    for side in ("x", "y", "width", "height"):
        assert abs(shown[side] - drawn[side]) <= 2, (side, shown, drawn)
    page.wait_for_function("() => !document.querySelector('.page-stand-in')")


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
    paints = bytes_before_paints(page, f"/documents/{document.id}", size)
    assert page.locator("#page-count").inner_text() == "40"
    assert page.locator("#viewer-root").get_attribute("data-first-paint") == "1"
    assert paints.first <= GOAL * size, f"{paints} of {size} bytes before page 1 showed"
    # pdf.js alone would be as quick: the image is for the long PDF below.
    assert len(paints.pdf_requests) >= 2, paints  # the first request, then ranges
    assert paints.pdf <= GOAL * size, f"{paints} of {size} bytes before pdf.js drew page 1"
    assert_drawn_where_the_image_was(page, 1)


def test_a_352_page_linearized_pdf_shows_its_first_page_after_a_tenth(page, examiner_user):
    """The book's first page is its cover, a 268 kB JPEG: its objects alone are 10.8 % of the
    file (the linearization dictionary's /E, where the first page's section ends). The server's
    image of the cover is shown first; pdf.js then fetches little else than the cover: at most
    a further tenth of the file."""
    with pikepdf.open(LARGE_PDF) as pdf:
        assert len(pdf.pages) == 352
    first_page_end = int(re.search(rb"/E (\d+)", LARGE_PDF.read_bytes()[:1024])[1])
    dossier = create_dossier("BG/P/2024/352", title="A long book")
    document = file_document(
        dossier, LARGE_PDF.read_bytes(), type_code="DESC", filename="book.pdf", title="Book"
    )
    size = LARGE_PDF.stat().st_size

    sign_in(page, "erika")
    paints = bytes_before_paints(page, f"/documents/{document.id}", size)
    assert page.locator("#page-count").inner_text() == "352"
    # The image of the cover, before pdf.js has fetched the cover itself.
    assert paints.first <= GOAL * size, f"{paints} of {size} bytes before page 1 showed"
    assert paints.pdf <= first_page_end + GOAL * size, (
        f"{paints} of {size} bytes before pdf.js drew page 1 ({first_page_end} bytes)"
    )
    assert_drawn_where_the_image_was(page, 1)


def test_a_hits_page_is_painted_first_where_pdfjs_then_draws_it(page, examiner_user, settings):
    """Opened from a search hit on page 2, the viewer paints the image of page 2, where pdf.js
    then shows page 2 (it scrolls there)."""
    settings.EDMS_PAGE_IMAGE_MIN_BYTES = 0  # a small PDF: shown first as an image all the same
    dossier = create_dossier("BG/P/2024/4242", title="Clock movement")
    content = paged_pdf(*THREE_PAGES)
    document = file_document(dossier, content, type_code="DESC", filename="description.pdf")

    sign_in(page, "erika")
    bytes_before_paints(page, f"/documents/{document.id}?page=2", len(content))
    assert page.locator("#viewer-root").get_attribute("data-first-paint") == "2"
    page.wait_for_selector("#viewer-root[data-current-page='2']")
    assert_drawn_where_the_image_was(page, 2)
