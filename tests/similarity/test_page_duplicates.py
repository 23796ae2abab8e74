"""Near-duplicates by their pages (issue 20, point 2): processing hashes every page of a version
in its sandbox, and a re-filing with a new cover page, or a scan of a PDF filed earlier (no
text to compare), is flagged with how many of its pages are the same; a different document is
not. A version processed before pages were hashed is compared by its thumbnail, and
`edms find_duplicates` checks it again once its pages are hashed.

The PDFs are made here: letter-like pages drawn as vector bars, with an invisible text layer
that differs between documents (so only the pages can match); the scan is those pages rendered
to JPEG images in one image-only PDF, which OCR reads (when Tesseract is there)."""

from __future__ import annotations

import io
import random

import img2pdf
import pikepdf
import pypdfium2 as pdfium
import pytest
from django.core.management import call_command
from django.test import Client

from dossier.models import PageHashes
from dossier.processing_facts import record_page_hashes
from dossier.roles import Role
from ingest.page_hashing import page_hashes
from similarity import perceptual
from similarity.duplicate_models import DuplicateFlag, Fingerprint
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def drawn_page(seed: int) -> bytes:
    """A page's content stream: a letterhead box, then 30 lines of 'text' (bars) whose lengths
    depend on `seed`, so pages of different seeds look different."""
    chooser = random.Random(seed)
    ops = ["0 g", "3 w", "40 682 540 80 re S"]
    for line in range(30):
        length = chooser.randrange(120, 520)
        top = 640 - line * 20
        ops.append(f"60 {top} {length} 9 re f")
    return "\n".join(ops).encode()


WORDS = (
    "claim apparatus housing lever spring shaft gear wheel escapement pallet fork balance "
    "coupled rotatable mounted first second third arranged engage disengage configured"
).split()


def drawn_pdf(*seeds: int, text: int) -> bytes:
    """A PDF of one drawn page per seed, each with an invisible text layer (as OCR leaves) of
    60 words chosen by `text`: documents of different `text` share no passage, so only their
    pages can make them alike, and their text passes the quality gate (no OCR here)."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    for number, seed in enumerate(seeds):
        chooser = random.Random(f"{text}-{number}")
        words = " ".join(chooser.choice(WORDS) for _ in range(60)).encode()
        page = pdf.add_blank_page(page_size=(612, 792))
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        invisible = b"\nBT /F1 4 Tf 3 Tr 40 40 Td (" + words + b") Tj ET"
        page.obj.Contents = pdf.make_stream(drawn_page(seed) + invisible)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def scanned(content: bytes, dpi: int = 100) -> bytes:
    """The PDF printed and scanned: each page a grey JPEG image, no text, no vector."""
    pdf = pdfium.PdfDocument(content)
    images = []
    for index in range(len(pdf)):
        image = pdf[index].render(scale=dpi / 72).to_pil().convert("L")
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=60)
        images.append(buffer.getvalue())
    return img2pdf.convert(images, layout_fun=img2pdf.get_fixed_dpi_layout_fun((dpi, dpi)))


def filed_pdf(key: str, content: bytes, **fields):
    return file_document(
        create_dossier(key), content, filename="drawings.pdf", type_code="CLM", **fields
    )


def duplicates(client, document) -> list[dict]:
    response = client.get(f"/api/v1/documents/{document.id}")
    assert response.status_code == 200, response.content
    return response.json()["duplicates"]


def test_every_page_is_hashed_in_processing(settle):
    document = filed_pdf("BG/P/2024/000101", drawn_pdf(1, 2, 3, text=1))
    settle()
    recorded = PageHashes.objects.get(version__document=document)
    assert recorded.pages == 3
    assert len(recorded.hashes) == 3 and all(len(value) == 64 for value in recorded.hashes)
    assert len(set(recorded.hashes)) == 3  # three different pages
    fingerprint = Fingerprint.objects.get(version__document=document)
    assert fingerprint.page_hashes == recorded.hashes and fingerprint.page_checked


def test_a_refiling_with_a_new_cover_page_is_flagged_with_its_page_count(
    examiner, records_clerk, settle
):
    original = filed_pdf("BG/P/2024/000111", drawn_pdf(11, 12, 13, 14, text=2), title="Drawings")
    other = filed_pdf("BG/P/2024/000112", drawn_pdf(21, 22, 23, 24, text=3))
    settle()
    refiled = filed_pdf(
        "BG/P/2024/000113", drawn_pdf(99, 12, 13, 14, text=4), title="Drawings again"
    )
    settle()

    [found] = duplicates(examiner, refiled)
    assert found["relation"] == "refiling_of"
    assert found["document"] == str(original.id)
    assert (found["pages_same"], found["pages_compared"]) == (3, 4)
    assert found["text_similarity"] is None  # no text: the pages found it
    assert found["reason"] == "3 of 4 pages the same as BG/P/2024/000111 — Drawings"
    [back] = duplicates(examiner, original)
    assert back["reason"] == (
        "3 of 4 pages of BG/P/2024/000113 — Drawings again the same as this document's"
    )
    assert duplicates(examiner, other) == []
    assert DuplicateFlag.objects.count() == 1

    [listed] = records_clerk.get("/api/v1/duplicates").json()["results"]
    assert (listed["pages_same"], listed["pages_compared"]) == (3, 4)
    assert listed["reason"] == "3 of 4 pages the same as BG/P/2024/000111 — Drawings"
    clerk = Client()
    clerk.force_login(UserFactory(role=Role.RECORDS_CLERK))
    page = clerk.get("/duplicates").content.decode()
    row = page[page.index(f'data-flag="{listed["id"]}"') :]
    assert '<td class="num">3 of 4</td>' in row


def test_a_scan_of_a_pdf_filed_earlier_is_flagged_by_its_pages(examiner, settle):
    content = drawn_pdf(31, 32, 33, 34, text=5)
    original = filed_pdf("BG/P/2024/000121", content)
    filed_pdf("BG/P/2024/000122", drawn_pdf(41, 42, 43, 44, text=6))
    settle()
    scan = filed_pdf("BG/P/2024/000123", scanned(content))
    settle()

    [found] = duplicates(examiner, scan)
    assert found["document"] == str(original.id)
    assert (found["pages_same"], found["pages_compared"]) == (4, 4)
    assert found["reason"].startswith("4 of 4 pages the same as BG/P/2024/000121")


def test_a_reader_sees_no_page_flag_of_a_document_they_may_not_read(examiner, admin_client, settle):
    content = drawn_pdf(51, 52, 53, text=7)
    secret = file_document(
        create_dossier("BG/P/2024/000131", secret=True), content, filename="drawings.pdf"
    )
    settle()
    again = filed_pdf("BG/P/2024/000132", drawn_pdf(98, 52, 53, text=8))
    settle()
    assert [d["document"] for d in duplicates(admin_client, again)] == [str(secret.id)]
    assert duplicates(examiner, again) == []


def test_a_version_processed_before_pages_were_hashed_is_compared_by_its_thumbnail(
    examiner, settle
):
    original = filed_pdf("BG/P/2024/000141", drawn_pdf(61, 62, 63, 64, text=9))
    settle()
    # As before this change: a thumbnail, no page hashes, a first-page fingerprint.
    version = original.versions.get()
    hashes = PageHashes.objects.get(version=version).hashes
    PageHashes.objects.filter(version=version).delete()
    Fingerprint.objects.all().delete()
    call_command("find_duplicates")
    assert len(Fingerprint.objects.get(version=version).page_hashes) == 1

    again = filed_pdf("BG/P/2024/000142", drawn_pdf(61, 62, 63, 64, text=10))
    settle()
    [found] = duplicates(examiner, again)
    assert found["document"] == str(original.id)
    assert (found["pages_same"], found["pages_compared"]) == (1, 4)

    # Its pages hashed later (reprocessed): `find_duplicates` checks it again, page by page.
    record_page_hashes(version, hashes, 4)
    call_command("find_duplicates")
    assert len(Fingerprint.objects.get(version=version).page_hashes) == 4
    [found] = duplicates(examiner, again)
    assert (found["pages_same"], found["pages_compared"]) == (4, 4)


def test_an_image_files_frames_hash_as_the_pdfs_pages(tmp_path):
    """A multi-page TIFF of a PDF's pages (a fax, a scanner's TIFF) hashes frame by frame, close
    to the PDF's pages: the sandbox operation the render stage runs, on both."""
    content = drawn_pdf(71, 72, 73, text=11)
    pdf_path = tmp_path / "pages.pdf"
    pdf_path.write_bytes(content)
    pdf = pdfium.PdfDocument(content)
    frames = [pdf[index].render(scale=150 / 72).to_pil().convert("L") for index in range(3)]
    tiff_path = tmp_path / "pages.tif"
    frames[0].save(tiff_path, save_all=True, append_images=frames[1:], compression="tiff_lzw")

    from_pdf = page_hashes(path=str(pdf_path), media_type="application/pdf", max_pages=300)
    from_tiff = page_hashes(path=str(tiff_path), media_type="image/tiff", max_pages=2)

    assert from_pdf["pages"] == 3 and from_tiff["pages"] == 3
    assert len(from_tiff["hashes"]) == 2  # the cap
    apart = perceptual.distances(from_pdf["hashes"][:2], from_tiff["hashes"])
    assert apart[0, 0] <= 10 and apart[1, 1] <= 10
    assert apart[0, 1] > 40 and apart[1, 0] > 40
