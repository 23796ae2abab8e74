"""OCR of scanned paper into a searchable PDF/A: real OCRmyPDF, Tesseract, Ghostscript and unpaper
in the sandbox, on pages drawn at 300 dpi (also upside down, sideways, skewed and speckled, as
scanners deliver them) and on an image-only PDF from the corpus."""

from __future__ import annotations

import io
import os
import random
import re
import statistics
import subprocess
import unicodedata
from pathlib import Path

import pikepdf
import pytest
from celery import current_app
from PIL import Image, ImageChops, ImageDraw, ImageFont

from dossier import blobstore
from dossier.models import PageHashes, Rendition
from ingest import capabilities
from ingest.checks import check_renditions
from ingest.languages import ocr_languages, tesseract_code
from ingest.models import Processing, Stage, State
from ingest.pipeline import run_to_completion
from tests.ingest_support import (
    OCR_PROGRAMS,
    corpus_file,
    file_version,
    jobs_left_running,
    require_programs,
    stray_processes,
)
from tests.ingest_support import require_font as font
from tests.scan_support import A4, scanned
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
        "page hashes",
    ]
    # Each page hashed for the near-duplicate check, from the PDF/A the viewer shows.
    assert len(PageHashes.objects.get(version=processing.version).hashes) == 2
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
    assert processing.reason_code == "timed-out"
    assert processing.reason == (
        "reading the file took too long: ask for a simpler copy (printed to PDF)"
    )
    assert step(processing, "ocr")["state"] == "failed"
    assert step(processing, "ocr")["detail"] == "timed out after 1 s"
    # Tesseract and Ghostscript ran in the sandbox's process group: none of them survives.
    assert not jobs_left_running()
    assert not stray_processes(("tesseract", "gs"))


def test_ocr_and_render_have_their_own_queues():
    route = current_app.amqp.router.route
    assert route({}, "ingest.tasks.process_version")["queue"].name == "extract"
    assert route({}, "ingest.tasks.ocr_version")["queue"].name == "ocr"
    assert route({}, "ingest.tasks.render_version")["queue"].name == "render"


# --- Pages as scanners deliver them: upside down, sideways, skewed, speckled ---------------------

TITLE = "Opposition against the registration"
# A page of varied text: Tesseract tells which way up a page is from its letters, and a full
# page of them scores above the confidence needed to turn it (EDMS_OCR_ROTATE_PAGES_THRESHOLD).
LETTER = [
    "The applicant requests the examination of claims 1 to 12 as filed.",
    "Priority is claimed from the earlier application filed in June.",
    "A handle is fixed to the body of the device by two screws, wherein",
    "the screws pass through the flange and engage a threaded sleeve.",
    "The examiner objects to the lack of unity between both inventions.",
    "Amended pages of the description are enclosed with this letter.",
    "The renewal fee for the fifth year was paid with the surcharge.",
    "Kindly acknowledge receipt of this reply within the time limit.",
    "The opponent relies on prior use of the sign in three countries.",
    "Evidence of use: invoices, catalogues and an affidavit (Annex 4).",
    "The mark was registered for goods in classes 9, 28 and 41.",
    "Oral proceedings are requested should the board intend to refuse.",
    "Translations of the cited documents are filed at the same time.",
    "Yours faithfully, the representative of the proprietor.",
]


def scan_of(image: Image.Image) -> bytes:
    return encoded(image, "JPEG", quality=90)


def letter(**scan) -> Image.Image:
    """An A4 letter at 300 dpi (`TITLE`, then `LETTER`), as `scanned` makes of it."""
    dejavu = font("DejaVu Sans")
    page = Image.new("L", A4, 255)
    draw = ImageDraw.Draw(page)
    draw.text((250, 250), TITLE, fill=0, font=ImageFont.truetype(dejavu, 90))
    body = ImageFont.truetype(dejavu, 44)
    for number, line in enumerate(LETTER):
        draw.text((250, 450 + number * 80), line, fill=0, font=body)
    return scanned(page, **scan)


def speckled(image: Image.Image, specks: int = 3000) -> Image.Image:
    """Dust and toner specks all over the page, as a dirty scanner glass leaves them."""
    page = image.copy()
    draw = ImageDraw.Draw(page)
    rng = random.Random(specks)
    for _ in range(specks):
        x, y = rng.randrange(page.width), rng.randrange(page.height)
        draw.rectangle((x, y, x + 1, y + 1), fill=0)
    return page


def page_image(pdf: bytes) -> Image.Image:
    """The image the PDF's first page shows (scans have one)."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        (image,) = document.pages[0].get_images().values()
        return pikepdf.PdfImage(image).as_pil_image().convert("L")


def same_pixels(first: Image.Image, second: Image.Image) -> bool:
    return first.size == second.size and ImageChops.difference(first, second).getbbox() is None


def dark_pixels(image: Image.Image, top: int) -> int:
    """Dark pixels below `top` (where the letter has no text: specks only)."""
    below = image.crop((0, top, image.width, image.height)).point(lambda v: 255 if v < 128 else 0)
    return below.histogram()[255]


def line_contrast(image: Image.Image) -> float:
    """How sharply text lines stand out from the gaps between them, row by row: a straight page
    has dark rows and white rows, a skewed one smears them into grey (the projection profile
    deskewing programs maximise)."""
    rows = image.convert("L").resize((1, image.height), Image.Resampling.BOX)
    return statistics.pstdev(rows.tobytes())


def read_correctly(processing: Processing) -> None:
    text = text_of(processing)
    for words in (TITLE, "examination of claims", "threaded sleeve", "surcharge"):
        assert words in text, text


@pytest.mark.parametrize(
    ("turn", "rotate"), [("upside_down", 180), ("quarter_turn", 90)], ids=["180", "90"]
)
def test_a_page_upside_down_or_sideways_is_turned_upright_and_read(dossier, turn, rotate):
    scan = scan_of(letter(**{turn: True}))

    processing = ocr(dossier, scan, "turned.jpg")

    assert processing.state == State.DONE, processing.reason
    assert "; 1 turned upright" in step(processing, "ocr")["detail"]
    read_correctly(processing)
    # Turning is lossless: the page's /Rotate says how to show it, its image is the scanner's.
    pdfa = rendition(processing, "pdfa")
    with pikepdf.open(io.BytesIO(pdfa)) as pdf:
        assert pdf.pages[0].obj.Rotate == rotate
    assert same_pixels(page_image(pdfa), Image.open(io.BytesIO(scan)).convert("L"))
    with Image.open(io.BytesIO(rendition(processing, "thumbnail"))) as thumbnail:
        assert thumbnail.height > thumbnail.width  # shown upright, as A4 portrait


def test_with_rotation_off_an_upside_down_page_stays_unread(dossier, settings):
    settings.EDMS_OCR_ROTATE_PAGES = False

    processing = ocr(dossier, scan_of(letter(upside_down=True)), "upside-down.jpg")

    assert processing.state == State.DONE, processing.reason
    assert "turned" not in step(processing, "ocr")["detail"]
    assert processing.text_id is None or TITLE not in text_of(processing)


def test_a_skewed_page_is_straightened_and_read_with_deskew_on(dossier, settings):
    settings.EDMS_OCR_DESKEW = True
    skewed = letter(skew=3)

    processing = ocr(dossier, scan_of(skewed), "skewed.jpg")

    assert processing.state == State.DONE, processing.reason
    assert step(processing, "ocr")["detail"].endswith("; deskewed")
    read_correctly(processing)
    # The PDF/A shows a straightened page in place of the scanner's image.
    shown = page_image(rendition(processing, "pdfa"))
    straight = line_contrast(letter())
    assert line_contrast(skewed) < 0.6 * straight
    assert shown.size == skewed.size and line_contrast(shown) > 0.9 * straight


def test_cleaning_uses_unpaper_on_what_tesseract_reads_and_keeps_the_scanners_image(
    dossier, settings
):
    require_programs("unpaper")
    settings.EDMS_OCR_CLEAN = True
    scan = scan_of(speckled(letter()))

    processing = ocr(dossier, scan, "speckled.jpg")

    assert processing.state == State.DONE, processing.reason
    assert step(processing, "ocr")["detail"].endswith("; cleaned for OCR (unpaper)")
    read_correctly(processing)
    assert same_pixels(page_image(rendition(processing, "pdfa")), Image.open(io.BytesIO(scan)))


def test_clean_final_also_removes_the_specks_from_the_page_the_pdfa_shows(dossier, settings):
    require_programs("unpaper")
    settings.EDMS_OCR_CLEAN_FINAL = True
    scan = scan_of(speckled(letter()))

    processing = ocr(dossier, scan, "speckled.jpg")

    assert processing.state == State.DONE, processing.reason
    assert step(processing, "ocr")["detail"].endswith("; cleaned (unpaper)")
    read_correctly(processing)
    below_text = 1700
    before = dark_pixels(Image.open(io.BytesIO(scan)).convert("L"), below_text)
    after = dark_pixels(page_image(rendition(processing, "pdfa")), below_text)
    assert after < 0.7 * before, (before, after)


@pytest.fixture
def without_unpaper_or_osd(monkeypatch, tmp_path):
    """A machine without unpaper (PATH has every other program) whose Tesseract has its
    language packs but not `osd`."""
    programs = tmp_path / "bin"
    programs.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        for program in Path(directory).glob("*") if Path(directory).is_dir() else ():
            if program.name != "unpaper" and not (programs / program.name).exists():
                (programs / program.name).symlink_to(program)
    listed = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True)
    tessdata = Path(re.search(r'"(.+?)"', listed.stdout).group(1))
    packs = tmp_path / "tessdata"
    packs.mkdir()
    for entry in tessdata.iterdir():
        if entry.name != "osd.traineddata":
            (packs / entry.name).symlink_to(entry)
    monkeypatch.setenv("PATH", str(programs))
    monkeypatch.setenv("TESSDATA_PREFIX", str(packs))
    capabilities.tesseract_packs.cache_clear()
    yield
    capabilities.tesseract_packs.cache_clear()


def test_without_unpaper_or_osd_scans_are_read_and_edms_says_what_it_left_out(
    dossier, settings, without_unpaper_or_osd
):
    settings.EDMS_OCR_CLEAN = True  # EDMS_OCR_ROTATE_PAGES is on by default

    processing = ocr(dossier, scan_of(speckled(letter())), "speckled.jpg")

    assert processing.state == State.DONE, processing.reason
    detail = step(processing, "ocr")["detail"]
    assert detail.endswith(
        "; not turned upright: Tesseract's osd pack is missing; not cleaned: unpaper not found"
    )
    read_correctly(processing)
    assert {"ingest.W004", "ingest.W005"} <= {w.id for w in check_renditions(None)}


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
