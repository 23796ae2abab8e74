"""Scans that arrive as images are first-class: a three-page TIFF (fax G4, LZW, JPEG) becomes a
PDF without loss, is OCR'd into a three-page PDF/A that the viewer page shows, and is found by a
word of its last page; the images img2pdf refuses as they are (alpha channel, palette with
transparency, 16 bits) are decoded by Pillow first and read as well; without OCR a TIFF is still
shown, through a PDF of its pages; an image no reader decodes fails with its reason, and its
viewer page says why and what to do. Real files drawn here, the real pipeline (Tika, OCRmyPDF,
Tesseract in the sandbox), the real search engine and views."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pikepdf
import pytest
from django.test import Client
from PIL import Image, ImageChops, ImageSequence

from dossier import blobstore
from dossier.models import Rendition
from dossier.roles import Role
from ingest.image_pdf import image_to_pdf
from ingest.models import Processing, State
from ingest.pipeline import run_to_completion
from search import indexer
from tests.conftest import make_user
from tests.ingest_support import OCR_PROGRAMS, corpus_file, file_version, require_programs
from tests.ingest_support import require_font as font
from tests.scans import DPI, page

pytestmark = pytest.mark.django_db

HEIC_PHOTO = corpus_file("testHEIF.heic")

# One word a page, each found on its page only: the last one proves the third page was read.
WORDS = ("Escapement", "Pendulum", "Tourbillon")
# How img2pdf carries each TIFF compression into the PDF: G4 data as it is; LZW re-encoded
# without loss (Flate); a TIFF's JPEG strips decoded once and then kept without further loss.
TIFFS = {
    "g4": ("group4", "1", "/CCITTFaxDecode"),
    "lzw": ("tiff_lzw", "L", "/FlateDecode"),
    "jpeg": ("jpeg", "RGB", "/FlateDecode"),
}


def fax_pages(mode: str = "L") -> list[Image.Image]:
    dejavu = font("DejaVu Sans")
    return [
        page([f"Facsimile page {number}: {word}"], dejavu).convert(mode)
        for number, word in enumerate(WORDS, start=1)
    ]


def tiff(frames: list[Image.Image], compression: str | None) -> bytes:
    buffer = io.BytesIO()
    options = {"compression": compression} if compression else {}
    frames[0].save(
        buffer,
        format="TIFF",
        save_all=True,
        append_images=frames[1:],
        dpi=(DPI, DPI),
        **options,
    )
    return buffer.getvalue()


def decoded_frames(content: bytes) -> list[Image.Image]:
    """The TIFF's pages as Pillow decodes them, in grey."""
    with Image.open(io.BytesIO(content)) as image:
        return [frame.convert("L") for frame in ImageSequence.Iterator(image)]


def png(frame: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    frame.save(buffer, format="PNG", dpi=(DPI, DPI), **options)
    return buffer.getvalue()


def sixteen_bit(frame: Image.Image) -> Image.Image:
    """The grey page in 16 bits a sample, as some archive scanners write it."""
    return frame.convert("I").point(lambda value: value * 257).convert("I;16")


def processed(dossier, content: bytes, filename: str) -> Processing:
    version = file_version(dossier, content, filename)
    run_to_completion(version.id)
    return Processing.objects.get(version=version)


def rendition(processing: Processing, kind: str) -> bytes:
    found = Rendition.objects.get(version=processing.version, kind=kind)
    return b"".join(blobstore.read_chunks(found.blob_id))


def text_of(processing: Processing) -> str:
    return b"".join(blobstore.read_chunks(processing.text_id)).decode()


def examiner() -> Client:
    client = Client()
    client.force_login(make_user("erika", Role.EXAMINER))
    return client


def viewer_shows(client: Client, document_id) -> str:
    """The URL the viewer page loads into pdf.js (it must be a PDF)."""
    response = client.get(f"/documents/{document_id}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-kind="pdf"' in html
    # The viewer's own data-url (the notes panel has one too, for its API).
    (url,) = re.findall(r'data-kind="pdf" data-url="([^"]*)"', html)
    return url


@pytest.mark.parametrize("kind", list(TIFFS))
def test_a_three_page_tiff_is_shown_as_its_pdfa_and_found_by_its_last_page(
    dossier, search_backend, kind
):
    require_programs(*OCR_PROGRAMS)
    compression, mode, pdf_filter = TIFFS[kind]
    content = tiff(fax_pages(mode), compression)
    scanned = decoded_frames(content)

    processing = processed(dossier, content, f"fax-{kind}.tif")

    assert processing.state == State.DONE, processing.reason
    assert (processing.media_type, processing.page_count) == ("image/tiff", 3)
    for word in WORDS:
        assert word in text_of(processing)
    with pikepdf.open(io.BytesIO(rendition(processing, "pdfa"))) as pdfa:
        assert len(pdfa.pages) == 3
        assert pdfa.open_metadata().pdfa_status == "2B"
        for number, pdf_page in enumerate(pdfa.pages):
            (image,) = pdf_page.get_images().values()
            assert image.Filter == pdf_filter
            # Every pixel as the TIFF holds it.
            shown = pikepdf.PdfImage(image).as_pil_image().convert("L")
            assert not ImageChops.difference(shown, scanned[number]).getbbox()

    indexer.sync()
    client = examiner()
    document_id = processing.version.document_id
    found = client.get("/api/v1/search", {"q": WORDS[2]}).json()["results"]
    assert [hit["document"] for hit in found] == [str(document_id)]
    shown_url = viewer_shows(client, document_id)
    assert shown_url.endswith("/versions/1/renditions/pdfa")
    served = client.get(shown_url)
    assert served.status_code == 200
    assert served["Content-Type"] == "application/pdf"
    with pikepdf.open(io.BytesIO(b"".join(served.streaming_content))) as pdf:
        assert len(pdf.pages) == 3


# The awkward images, and what converts them: img2pdf keeps an alpha channel (or a palette's
# transparent colour) as a soft mask; it refuses more than 8 bits a sample in a TIFF, which
# Pillow then scales to 8.
AWKWARD_IMAGES = {
    "16-bit.tif": (lambda: tiff([sixteen_bit(frame) for frame in fax_pages()], None), "pillow"),
    "alpha.png": (lambda: png(fax_pages()[0].convert("RGBA")), "img2pdf"),
    # Index 255 (white) transparent: the paper shows through, the letters stay.
    "palette.png": (lambda: png(fax_pages()[0].convert("P"), transparency=255), "img2pdf"),
}


@pytest.mark.parametrize("filename", list(AWKWARD_IMAGES))
def test_alpha_palette_transparency_and_16_bits_are_converted_and_read(dossier, filename, tmp_path):
    require_programs(*OCR_PROGRAMS)
    make, converter = AWKWARD_IMAGES[filename]
    content = make()
    original = tmp_path / filename
    original.write_bytes(content)

    converted = image_to_pdf(str(original), str(tmp_path / "image.pdf"))
    processing = processed(dossier, content, filename)

    assert converted["converter"] == converter
    assert processing.state == State.DONE, processing.reason
    (ocr_step,) = [step for step in processing.steps if step["name"] == "ocr"]
    decoded_first = "image decoded by Pillow first" in ocr_step["detail"]
    assert decoded_first == (converter == "pillow"), ocr_step["detail"]
    pages = 3 if filename.endswith(".tif") else 1
    assert converted["pages"] == processing.page_count == pages
    assert all(word in text_of(processing) for word in WORDS[:pages]), text_of(processing)
    with pikepdf.open(io.BytesIO(rendition(processing, "pdfa"))) as pdfa:
        assert len(pdfa.pages) == pages


def test_a_heic_photo_is_decoded_by_pillow_into_its_pdf(tmp_path):
    converted = image_to_pdf(str(HEIC_PHOTO.path), str(tmp_path / "photo.pdf"))

    assert converted == {"pages": 1, "converter": "pillow"}
    with pikepdf.open(tmp_path / "photo.pdf") as pdf:
        assert len(pdf.pages) == 1


def test_a_g4_fax_is_copied_into_its_pdf_by_img2pdf_at_its_resolution(tmp_path):
    original = tmp_path / "fax.tif"
    frames = fax_pages("1")
    original.write_bytes(tiff(frames, "group4"))

    converted = image_to_pdf(str(original), str(tmp_path / "fax.pdf"))

    assert converted == {"pages": 3, "converter": "img2pdf"}
    with pikepdf.open(tmp_path / "fax.pdf") as pdf:
        width_points = float(pdf.pages[0].mediabox[2])
        # 2480 pixels at 300 dpi: an A4 page's width (595 points), not a 72 dpi poster.
        assert round(width_points) == round(frames[0].width * 72 / DPI) == 595


@pytest.fixture
def without_ocr(monkeypatch, tmp_path):
    """A machine without Tesseract (PATH has every other program)."""
    programs = tmp_path / "bin"
    programs.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        for program in Path(directory).glob("*") if Path(directory).is_dir() else ():
            if program.name != "tesseract" and not (programs / program.name).exists():
                (programs / program.name).symlink_to(program)
    monkeypatch.setenv("PATH", str(programs))


def test_without_ocr_a_tiff_is_shown_through_a_pdf_of_its_pages(dossier, without_ocr):
    processing = processed(dossier, tiff(fax_pages("1"), "group4"), "fax.tif")

    assert processing.state == State.DONE, processing.reason
    assert processing.renditions_state == State.DONE
    assert not Rendition.objects.filter(version=processing.version, kind="pdfa").exists()
    with pikepdf.open(io.BytesIO(rendition(processing, "pdf"))) as pdf:
        assert len(pdf.pages) == 3
    shown_url = viewer_shows(examiner(), processing.version.document_id)
    assert shown_url.endswith("/versions/1/renditions/pdf")


def test_an_image_no_reader_decodes_fails_and_its_viewer_page_says_why(dossier):
    require_programs(*OCR_PROGRAMS)
    broken = b"II*\x00" + b"\x00" * 64  # a TIFF header, and nothing of an image after it

    processing = processed(dossier, broken, "fax.tif")

    assert processing.state == State.FAILED
    assert processing.reason_code == "unreadable-image"
    client, viewer = examiner(), f"/documents/{processing.version.document_id}"
    html = client.get(viewer).content.decode()
    assert "the image cannot be read: it is damaged or in an unknown format" in failure(html)
    assert "What to do: Ask for the image again as PDF, PNG, JPEG or TIFF." in failure(html)
    assert "No extracted text yet" not in html and 'id="text-view"' not in html
    # In the examiner's language, from the reason's code.
    french = client.get(viewer, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "l&#x27;image est illisible" in failure(french)
    assert "Redemandez l&#x27;image en PDF, PNG, JPEG ou TIFF." in failure(french)


def failure(html: str) -> str:
    """What the viewer says where the version would be shown."""
    return html.split('id="viewer-failure"', 1)[1].split("</div>", 1)[0]
