"""OCR of scanned paper into a searchable PDF/A: real OCRmyPDF, Tesseract and Ghostscript in the
sandbox, on pages drawn at 300 dpi and on an image-only PDF from the corpus."""

from __future__ import annotations

import io
import os
import unicodedata

import pikepdf
import psutil
import pytest
from celery import current_app

from dossier import blobstore
from ingest.languages import ocr_languages, tesseract_code
from ingest.models import Processing, Rendition, Stage, State
from ingest.pipeline import run_to_completion
from tests.ingest_support import OCR_PROGRAMS, corpus_file, file_version, require_programs
from tests.ingest_support import require_font as font
from tests.scans import encoded, g4_tiff, page

IMAGE_ONLY_PATENT = corpus_file("472407ff_US11762912.pdf")  # 2 scanned pages, no text layer
INSTALLED = ("ara", "eng", "fra", "rus", "spa")


@pytest.fixture(autouse=True)
def ocr_programs():
    require_programs(*OCR_PROGRAMS)


def ocr(dossier, content: bytes, filename: str, **fields) -> Processing:
    version = file_version(dossier, content, filename, **fields)
    run_to_completion(version.id)
    return Processing.objects.get(version=version)


def text_of(processing: Processing) -> str:
    return b"".join(blobstore.read_chunks(processing.text_id)).decode()


def rendition(processing: Processing, kind: str) -> bytes:
    found = Rendition.objects.get(version=processing.version, kind=kind)
    return b"".join(blobstore.read_chunks(found.blob_id))


def step(processing: Processing, name: str) -> dict:
    (found,) = [s for s in processing.steps if s["name"] == name]
    return found


def test_an_arabic_scan_comes_back_as_arabic_text(dossier):
    naskh = font("Noto Naskh Arabic")
    lines = ["طلب براءة اختراع لجهاز جديد", "المطالبات والوصف الكامل للاختراع"]
    scan = page(lines, naskh, rtl=True)

    # The document's language picks the Tesseract pack; the office's default (eng) joins it.
    processing = ocr(dossier, encoded(scan, "PNG"), "scan-ar.png", language="ar")

    assert processing.state == State.DONE, processing.reason
    assert "ara+eng" in step(processing, "ocr")["detail"]
    text = text_of(processing)
    arabic_letters = [c for c in text if unicodedata.name(c, "").startswith("ARABIC LETTER")]
    assert len(arabic_letters) >= 30, text
    assert "اختراع" in text and "المطالبات" in text
    assert processing.languages == ["ar"]


def test_a_french_scan_keeps_its_accents_with_the_office_languages(dossier, settings):
    settings.EDMS_OCR_LANGUAGES = "fra+eng"  # the office's default; the document names none
    scan = page(
        ["Demande de brevet européen déposée à l'Office", "Revendications : élément et procédé"],
        font("DejaVu Sans"),
    )

    processing = ocr(dossier, encoded(scan, "JPEG", quality=90), "scan-fr.jpg")

    assert processing.state == State.DONE, processing.reason
    assert "fra+eng" in step(processing, "ocr")["detail"]
    text = text_of(processing)
    for word in ("européen", "déposée", "élément", "procédé"):
        assert word in text, text
    assert processing.languages == ["fr"]


def test_a_multi_page_g4_tiff_becomes_a_searchable_pdfa_with_every_page(dossier):
    dejavu = font("DejaVu Sans")
    pages = [page(["First page of the application"], dejavu), page(["Second page: claims"], dejavu)]

    processing = ocr(dossier, g4_tiff(pages), "fax.tif")

    assert processing.state == State.DONE, processing.reason
    assert processing.media_type == "image/tiff"
    assert (processing.stage, processing.page_count) == (Stage.OCR, 2)
    text = text_of(processing)
    assert "First page of the application" in text and "Second page: claims" in text
    with pikepdf.open(io.BytesIO(rendition(processing, "pdfa"))) as pdf:
        assert len(pdf.pages) == 2
        assert pdf.open_metadata().pdfa_status == "2B"


def test_an_image_only_pdf_from_the_corpus_gets_a_searchable_pdfa(dossier):
    processing = ocr(dossier, IMAGE_ONLY_PATENT.path.read_bytes(), IMAGE_ONLY_PATENT.name)

    assert processing.state == State.DONE, processing.reason
    assert [s["name"] for s in processing.steps] == [
        "fetch",
        "identify",
        "extract",
        "ocr",
        "thumbnail",
    ]
    text = text_of(processing)
    assert "United States Patent" in text and "Van Dusen" in text
    pdfa = rendition(processing, "pdfa")
    with pikepdf.open(io.BytesIO(pdfa)) as pdf:
        assert len(pdf.pages) == 2
        assert pdf.open_metadata().pdfa_status == "2B"
    # The original is never touched: the OCR output is a separate blob.
    assert processing.version.blob_id == IMAGE_ONLY_PATENT.sha256
    assert blobstore.rehash(processing.version.blob_id)[0] == IMAGE_ONLY_PATENT.sha256


def test_a_transparent_png_is_read_on_white_paper(dossier):
    scan = page(["Transparent background scan"], font("DejaVu Sans"), mode="LA")

    processing = ocr(dossier, encoded(scan, "PNG"), "transparent.png")

    assert processing.state == State.DONE, processing.reason
    assert "Transparent background scan" in text_of(processing)


def test_ocr_that_takes_too_long_is_stopped_with_everything_it_started(dossier, settings):
    settings.EDMS_OCR_TIMEOUT = 1

    processing = ocr(dossier, IMAGE_ONLY_PATENT.path.read_bytes(), IMAGE_ONLY_PATENT.name)

    assert processing.state == State.FAILED
    assert processing.reason == "timed out after 1 s"
    assert step(processing, "ocr")["state"] == "failed"
    # Tesseract and Ghostscript ran in the sandbox's process group: none of them survives.
    assert not psutil.Process(os.getpid()).children(recursive=True)
    leftovers = [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("tesseract", "gs")]
    assert not [p for p in leftovers if p.ppid() == 1 and _is_ours(p)]


def _is_ours(process: psutil.Process) -> bool:
    try:
        return "ingest-" in " ".join(process.cmdline()) or "ingest-" in process.cwd()
    except psutil.Error:
        return False


def test_ocr_and_render_have_their_own_queues():
    route = current_app.amqp.router.route
    assert route({}, "ingest.tasks.process_version")["queue"].name == "extract"
    assert route({}, "ingest.tasks.ocr_version")["queue"].name == "ocr"
    assert route({}, "ingest.tasks.render_version")["queue"].name == "render"


# --- Languages (no OCR run) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "tesseract"),
    [("ar", "ara"), ("fr", "fra"), ("FR-ca", "fra"), ("es", "spa"), ("ru", "rus"), ("ara", "ara")],
)
def test_document_languages_map_to_tesseract_packs(code, tesseract):
    assert tesseract_code(code) == tesseract


def test_ocr_languages_combine_document_and_office_keeping_installed_packs():
    assert ocr_languages("ar", "", "eng", installed=INSTALLED) == ["ara", "eng"]
    assert ocr_languages("", "fr", "ara+eng", installed=INSTALLED) == ["fra", "ara", "eng"]
    assert ocr_languages("en", "", "eng", installed=INSTALLED) == ["eng"]
    # A language without its pack is left out rather than failing the OCR.
    assert ocr_languages("de", "", "eng", installed=INSTALLED) == ["eng"]
    assert ocr_languages("xx", "", "", installed=("fra",)) == ["fra"]
