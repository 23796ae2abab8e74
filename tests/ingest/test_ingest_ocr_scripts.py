"""The OCR language from the script on the page, when the document's language is unknown: real
Tesseract OSD, OCRmyPDF and Tesseract in the sandbox, on scans drawn in the test (a few lines at
300 dpi in a font that has the script) and put into PDFs without a text layer."""

from __future__ import annotations

import io
import os
import unicodedata

import pytest
from PIL import Image

from dossier import blobstore
from ingest import capabilities, sandbox
from ingest.languages import tesseract_code
from ingest.models import Processing, State
from ingest.pipeline import run_to_completion
from ingest.scripts import script_languages, uncovered, unreadable
from tests.ingest_support import OCR_PROGRAMS, file_version, require_programs
from tests.ingest_support import require_font as font
from tests.scans import DPI, g4_tiff, page

# Four lines: Tesseract's OSD needs a score of characters to name a script, and joined Arabic
# letters make fewer shapes than Latin ones.
ARABIC = [
    "طلب براءة اختراع لجهاز جديد",
    "المطالبات والوصف الكامل للاختراع",
    "يتعلق الاختراع بجهاز لقياس الحرارة",
    "ويشمل الجهاز غطاء ومقبضا ومحركا صغيرا",
]
SIMPLIFIED = ["一种新型装置的发明专利申请书", "权利要求书和说明书的全部内容"]
TRADITIONAL = ["一種新型裝置的發明專利申請書", "權利要求書和說明書的全部內容"]
FRENCH = ["Demande de brevet européen déposée à l'Office", "Revendications : élément et procédé"]


@pytest.fixture(autouse=True)
def ocr_programs_and_packs():
    require_programs(*OCR_PROGRAMS)
    wanted = {"osd", "ara", "chi_sim", "chi_tra", "eng", "fra"}
    missing = sorted(wanted - set(capabilities.tesseract_packs()))
    if missing:
        reason = f"Tesseract packs {missing} not installed: run infra/install-system-packages.sh"
        if os.environ.get("CI"):  # CI installs them
            pytest.fail(reason)
        pytest.skip(reason)


def scanned_pdf(*pages: Image.Image) -> bytes:
    """The pages as a PDF of images only, as a scanner without OCR makes it."""
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", resolution=DPI, save_all=True, append_images=list(pages[1:]))
    return buffer.getvalue()


def ocr(dossier, content: bytes, filename: str, **fields) -> Processing:
    version = file_version(dossier, content, filename, **fields)
    run_to_completion(version.id)
    processing = Processing.objects.get(version=version)
    assert processing.state == State.DONE, processing.reason
    return processing


def text_of(processing: Processing) -> str:
    return b"".join(blobstore.read_chunks(processing.text_id)).decode()


def ocr_detail(processing: Processing) -> str:
    (found,) = [s["detail"] for s in processing.steps if s["name"] == "ocr"]
    return found


def arabic_letters(text: str) -> int:
    return sum(unicodedata.name(c, "").startswith("ARABIC LETTER") for c in text)


def test_an_arabic_scan_of_no_declared_language_is_read_in_arabic(dossier):
    scan = page(ARABIC, font("Noto Sans Arabic"), rtl=True)

    processing = ocr(dossier, scanned_pdf(scan), "scan-ar.pdf")

    assert "read in ara+eng (script detected: Arabic):" in ocr_detail(processing)
    text = text_of(processing)
    assert arabic_letters(text) >= 60, text
    assert "اختراع" in text and "المطالبات" in text
    assert processing.languages == ["ar"]


def test_a_chinese_scan_of_no_declared_language_is_read_in_chinese(dossier):
    scan = page(SIMPLIFIED, font("WenQuanYi Micro Hei"))

    processing = ocr(dossier, scanned_pdf(scan), "scan-zh.pdf")

    # OSD tells Han, not simplified from traditional: both packs, then the office's English.
    assert "read in chi_sim+chi_tra+eng (script detected: Han):" in ocr_detail(processing)
    text = text_of(processing)
    assert "发明专利申请书" in text and "权利要求书" in text, text


def test_a_latin_scan_keeps_the_office_languages(dossier, settings):
    settings.EDMS_OCR_LANGUAGES = "fra+eng"
    scan = page(FRENCH, font("DejaVu Sans"))

    processing = ocr(dossier, scanned_pdf(scan), "scan-fr.pdf")

    assert "read in fra+eng (script detected: Latin):" in ocr_detail(processing)
    assert "déposée" in text_of(processing)


def test_a_declared_language_wins_over_the_script_on_the_page(dossier):
    scan = page(TRADITIONAL, font("WenQuanYi Micro Hei"))

    # Declared traditional Chinese: no detection, no simplified pack.
    processing = ocr(dossier, scanned_pdf(scan), "scan-zh-tw.pdf", language="zh-tw")

    detail = ocr_detail(processing)
    assert "read in chi_tra+eng:" in detail and "script" not in detail
    assert "發明專利申請書" in text_of(processing)


def test_pages_in_different_scripts_are_read_with_the_union_of_their_languages(dossier):
    arabic = page(ARABIC, font("Noto Sans Arabic"), rtl=True)
    french = page(FRENCH + FRENCH, font("DejaVu Sans"))

    # A fax (multi-page G4 TIFF): the image path renders its frames as the PDF path its pages.
    processing = ocr(dossier, g4_tiff([arabic, french]), "fax.tif")

    detail = ocr_detail(processing)
    assert "read in ara+eng (scripts detected: Arabic (page 1), Latin (page 2)):" in detail
    text = text_of(processing)
    assert "اختراع" in text and "Revendications" in text, text


def test_a_page_too_short_to_tell_is_read_in_the_office_languages(dossier, settings):
    settings.EDMS_OCR_LANGUAGES = "fra+eng"
    scan = page(["Annexe"], font("DejaVu Sans"))

    processing = ocr(dossier, scanned_pdf(scan), "annexe.pdf")

    assert "read in fra+eng (no script detected: too little text):" in ocr_detail(processing)


def test_a_long_scan_is_looked_at_on_ten_pages_spread_over_it(tmp_path):
    blank = Image.new("L", (300, 300), 255)
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(scanned_pdf(*[blank] * 12))

    found = sandbox.run(
        "ingest.scripts:page_scripts",
        {"path": str(pdf), "media_type": "application/pdf"},
        limits=sandbox.Limits(timeout_s=120),
        workdir=str(tmp_path),
    )

    # Blank pages tell no script; the first and the last are among those looked at.
    assert found == {"pages": 12, "scripts": [], "looked_at": [1, 2, 3, 5, 6, 7, 8, 10, 11, 12]}


# --- Choosing the packs (no OCR run) -------------------------------------------------------------

INSTALLED = ("ara", "chi_sim", "chi_tra", "eng", "fra", "jpn", "rus", "ukr", "bul", "srp")


def test_each_script_is_read_with_its_installed_packs_then_the_office_languages():
    assert script_languages(["Latin"], "", "fra+eng", installed=INSTALLED) == ["fra", "eng"]
    assert script_languages(["Arabic"], "", "eng", installed=INSTALLED) == ["ara", "eng"]
    assert script_languages(["Japanese"], "", "eng", installed=INSTALLED) == ["jpn", "eng"]
    # The office's own preference orders a script's packs; three at most.
    assert script_languages(["Han"], "", "chi_tra+eng", installed=INSTALLED) == [
        "chi_tra",
        "chi_sim",
        "eng",
    ]
    assert script_languages(["Cyrillic"], "", "eng", installed=INSTALLED) == [
        "rus",
        "ukr",
        "bul",
        "eng",
    ]
    # The dossier's language of proceedings joins the office's list, as without detection.
    assert script_languages(["Arabic"], "fr", "eng", installed=INSTALLED) == ["ara", "fra", "eng"]


def test_mixed_scripts_get_the_union_and_latin_always_gets_a_latin_pack():
    assert script_languages(["Arabic", "Latin", "Arabic"], "", "fra+eng", installed=INSTALLED) == [
        "ara",
        "fra",
        "eng",
    ]
    # An Arabic office's list reads no Latin: English joins for a Latin page.
    assert script_languages(["Latin"], "", "ara", installed=INSTALLED) == ["eng", "ara"]


def test_a_script_without_an_installed_pack_falls_back_to_the_office_languages():
    assert script_languages(["Thai"], "", "eng", installed=INSTALLED) == ["eng"]
    assert script_languages([], "", "fra", installed=INSTALLED) == ["fra"]
    assert unreadable(["Thai", "Latin", "Han", "Hebrew"], INSTALLED) == ["Thai", "Hebrew"]


def test_a_script_is_uncovered_when_no_language_of_the_pass_reads_it():
    assert uncovered(["Han", "Latin"], ["eng"], INSTALLED) == ["Han"]
    assert uncovered(["Han"], ["chi_tra", "eng"], INSTALLED) == []
    # Thai: no pack installed, reading again would not help; Latin: every office list reads it.
    assert uncovered(["Thai", "Latin"], ["ara"], INSTALLED) == []


def test_tesseract_codes_keep_their_underscore():
    assert tesseract_code("chi_sim") == "chi_sim"
    assert tesseract_code("zh_TW") == "chi_tra"


# --- Read again when the gate finds the text read in the wrong language --------------------------

# Six lines: enough words for the gate to judge what English OCR makes of them.
CHINESE_PAGE = [
    "一种新型装置的发明专利申请书",
    "权利要求书和说明书的全部内容",
    "本发明涉及一种用于测量温度的装置",
    "该装置包括外壳、手柄和小型电动机",
    "所述外壳由塑料制成并具有开口",
    "一种测量装置其特征在于外壳具有开口",
]


def test_a_chinese_scan_declared_english_is_read_again_in_chinese(dossier, settings):
    settings.EDMS_OCR_LANGUAGES = "eng"
    scan = page(CHINESE_PAGE, font("WenQuanYi Micro Hei"))

    # Declared English: the first pass reads in English only, and makes capitals of the glyphs.
    processing = ocr(dossier, scanned_pdf(scan), "scan-zh-filed-as-en.pdf", language="en")

    detail = ocr_detail(processing)
    assert "read in chi_sim+chi_tra+eng (script detected: Han), after eng failed" in detail
    assert "the words OCR read average" in detail, detail
    assert processing.metadata["ocr_languages"] == ["chi_sim", "chi_tra", "eng"]
    assert processing.metadata["ocr_languages_tried"] == [["eng"], ["chi_sim", "chi_tra", "eng"]]
    assert "权利要求书" in text_of(processing)
    assert processing.quality == "ok" and processing.quality_reason == ""


def test_a_scan_that_still_fails_the_gate_keeps_its_first_text_and_warning(dossier, settings):
    settings.EDMS_OCR_LANGUAGES = "eng"
    # Latin letters in a jumble: no words in any language. Tesseract's OSD takes it for Cyrillic
    # where a Cyrillic pack is installed: read again in it, it fails the gate all the same.
    jumble = ["Xq Zt Kv Bp Wd Fj Hx Qm Rz Vn Tk Pl Gs Cw Dy Lb Mf Nj"] * 4
    scan = page(jumble, font("DejaVu Sans"))

    processing = ocr(dossier, scanned_pdf(scan), "jumble.pdf", language="en")

    assert processing.metadata["ocr_languages"] == ["eng"]
    tried = processing.metadata.get("ocr_languages_tried", [["eng"]])
    assert tried[0] == ["eng"]
    if len(tried) > 1:
        assert f"; read again in {'+'.join(tried[1])} (script detected: " in ocr_detail(processing)
        assert "which fails the text-quality gate too (" in ocr_detail(processing)
    assert processing.quality == "warning"
    assert processing.quality_reason == (
        "the words OCR read average 2.0 letters: the page is probably in a script the OCR "
        "languages do not cover, or not text (after OCR)"
    ), processing.quality_reason
