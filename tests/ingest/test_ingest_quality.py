"""The text-quality gate: each of its rules on texts, then through the pipeline on files made here
(PDFs whose text layer is garbage because their font maps glyphs to U+FFFD or to private-use code
points, a PDF of blank pages, a drawing, an unknown format): a text that fails the gate is read
again by OCR, and a version that still has bad text, or none, ends done with a quality warning
saying why — never a silent "done"."""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

import pikepdf
import pytest
from django.test import Client
from PIL import Image, ImageDraw

from dossier import blobstore
from dossier.models import Version
from dossier.roles import Role
from ingest import quality
from ingest.models import Processing, State
from ingest.pipeline import run_to_completion
from tests.factories import UserFactory
from tests.ingest_support import OCR_PROGRAMS, file_version, require_programs

LETTER = [
    "The examiner objects to the lack of unity between both inventions.",
    "Amended pages of the description are enclosed with this letter.",
    "The renewal fee for the fifth year was paid with the surcharge.",
] * 3
# What a font's map to Unicode (its ToUnicode CMap) says each printable byte is.
REPLACEMENT = {code: "\ufffd" for code in range(0x21, 0x7F)}
PRIVATE_USE = {code: chr(0xE000 + code) for code in range(0x21, 0x7F)}
_consonants = random.Random(3)
CONSONANTS = {
    code: _consonants.choice("bcdfghjklmnpqrstvwxzBCDFGHJKLMNPQRSTVWXZ") if chr(code).isalpha()
    else chr(code)
    for code in range(0x21, 0x7F)
}  # fmt: skip


# --- Files made here ------------------------------------------------------------------------


def to_unicode_cmap(mapping: dict[int, str]) -> bytes:
    pairs = "\n".join(f"<{code:02X}> <{ord(char):04X}>" for code, char in mapping.items())
    return (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Garbled def /CMapType 2 def\n"
        "1 begincodespacerange <00> <FF> endcodespacerange\n"
        f"{len(mapping)} beginbfchar\n{pairs}\nendbfchar\n"
        "endcmap CMapName currentdict /CMap defineresource pop end end\n"
    ).encode()


def pdf_of(lines: list[str], *, to_unicode: dict[int, str] | None = None, pages: int = 1) -> bytes:
    """A born-digital PDF showing `lines` in Helvetica on each page (readable on paper, so OCR
    reads them); with `to_unicode`, its font tells extractors the glyphs are those characters."""
    pdf = pikepdf.new()
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
    )
    if to_unicode:
        font.ToUnicode = pdf.make_stream(to_unicode_cmap(to_unicode))
    shown = " ".join(f"({line}) '" for line in lines)
    for _ in range(pages):
        page = pdf.add_blank_page(page_size=(595, 842))
        if not lines:
            continue  # a blank page, as word processors write one: nothing drawn, no font
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.Contents = pdf.make_stream(f"BT /F1 14 Tf 72 760 Td 18 TL {shown} ET".encode())
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def drawing_pdf() -> bytes:
    """A vector drawing: lines and a box, no font, no image, no text."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595, 842))
    page.Contents = pdf.make_stream(b"4 w 100 100 m 495 742 l S 150 300 300 200 re S")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def drawing_png() -> bytes:
    """A drawing without a word on it: circles and lines."""
    image = Image.new("L", (1200, 900), 255)
    draw = ImageDraw.Draw(image)
    for radius in (120, 220, 320):
        draw.ellipse((600 - radius, 450 - radius, 600 + radius, 450 + radius), outline=0, width=6)
    draw.line((100, 800, 1100, 100), fill=0, width=6)
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(300, 300))
    return out.getvalue()


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


def processed(dossier, content: bytes, filename: str, **fields) -> Processing:
    version = file_version(dossier, content, filename, **fields)
    run_to_completion(version.id)
    return Processing.objects.get(version=version)


def text_of(processing: Processing) -> str:
    return b"".join(blobstore.read_chunks(processing.text_id)).decode()


def step(processing: Processing, name: str) -> dict:
    (found,) = [s for s in processing.steps if s["name"] == name]
    return found


def warned(processing: Processing, reason: str) -> None:
    """Done, with the quality warning recorded on the processing and on the version."""
    assert processing.state == State.DONE, processing.reason
    assert (processing.quality, processing.quality_reason) == ("warning", reason)
    version = Version.objects.get(pk=processing.version_id)
    assert (version.quality, version.quality_reason) == ("warning", reason)
    assert step(processing, "quality")["detail"] == f"warning: {reason}"


# --- The rules, on texts --------------------------------------------------------------------

ENGLISH = " ".join(LETTER)


def test_ordinary_texts_pass_the_gate():
    texts = {
        "en": ENGLISH + " Claims 1-12, EP 3 456 789 A1, WO2020/123456, US 11,762,912 B2.",
        "fr": "L'examinateur soulève une objection à l'absence d'unité entre les deux "
        "inventions. Les pages modifiées de la description sont jointes à cette lettre. " * 3,
        "ru": "Экспертиза возражает против отсутствия единства между двумя изобретениями. "
        "Изменённые страницы описания прилагаются к этому письму. " * 3,
        "ar": "يعترض الفاحص على عدم وحدة الاختراعين. الصفحات المعدلة من الوصف مرفقة بهذه الرسالة. "
        * 3,
        "zh-cn": "审查员认为两项发明之间缺乏单一性。说明书的修改页随本函附上。" * 5,
    }
    for language, text in texts.items():
        assert quality.check(text, page_count=1, languages=[language]).ok, language


def test_replacement_characters_fail_the_gate():
    verdict = quality.check("Claim 1: \ufffd\ufffd\ufffd\ufffd \ufffd\ufffd\ufffd", page_count=1)
    assert (verdict.ok, verdict.rule) == (False, "replacement")
    assert verdict.reason == (
        "the extracted text is mostly unreadable characters (50 % replacement characters)"
    )


def test_control_and_private_use_characters_fail_the_gate():
    garbled = "".join(chr(0xE000 + ord(char)) for char in ENGLISH) + "\x01\x02\x03"
    verdict = quality.check(garbled, page_count=1)
    assert (verdict.ok, verdict.rule) == (False, "control")
    assert verdict.reason.startswith("the extracted text is mostly control or private characters")


def test_too_few_characters_per_page_fail_the_gate():
    verdict = quality.check("p. 1", page_count=12)
    assert (verdict.ok, verdict.rule) == (False, "sparse")
    assert verdict.reason == "only 3 characters for 12 pages: the pages are probably images"
    assert quality.check("Annex 1", page_count=1).ok  # a short cover page is not a scan


def test_letters_outside_the_languages_script_fail_the_gate():
    # A Chinese page OCR'd as English: Latin letter soup where Chinese was expected.
    verdict = quality.check("lI1 iIl ti Ii ll tl il Il II ii l1 " * 6, languages=["zh-cn"])
    assert (verdict.ok, verdict.rule) == (False, "script")
    assert verdict.reason == "only 0 % of the letters are in the Han script expected for Chinese"


def test_words_that_cannot_be_words_fail_the_gate():
    garbled = "".join(CONSONANTS.get(ord(char), char) for char in ENGLISH)
    verdict = quality.check(garbled, page_count=1, languages=["en"])
    assert (verdict.ok, verdict.rule) == (False, "words")
    assert verdict.reason.endswith("of the words look like words: the text is probably garbled")


def test_ocr_fragments_fail_the_gate_only_for_ocr_text():
    # What Tesseract's English makes of a Chinese page: capitals, one or two letters a word.
    fragments = "Fp Rf A 2 A A BAS Al FA ts AX A KB AAA BHS BAS S Ae BAT Be BS FF ll SS in Ze " * 2
    verdict = quality.check(fragments, page_count=1, languages=["en"], ocr=True)
    assert (verdict.ok, verdict.rule) == (False, "fragments")
    assert verdict.reason.startswith("the words OCR read average 2.0 letters: ")
    # Born-digital text of short codes and units is not judged by word length.
    assert quality.check(fragments, page_count=1, languages=["en"]).ok
    assert quality.check(ENGLISH, page_count=1, languages=["en"], ocr=True).ok


def test_an_empty_text_fails_the_gate():
    assert quality.check(" \n\n ", page_count=2).rule == "empty"


# --- Through the pipeline -------------------------------------------------------------------


def test_a_readable_pdf_is_checked_ok_without_a_quality_step(dossier):
    processing = processed(dossier, pdf_of(LETTER), "letter.pdf")

    assert processing.state == State.DONE
    assert (processing.quality, processing.quality_reason) == ("ok", "")
    assert Version.objects.get(pk=processing.version_id).quality == "ok"
    assert "quality" not in [s["name"] for s in processing.steps]


def test_a_text_layer_of_replacement_characters_is_read_again_by_ocr(dossier):
    require_programs(*OCR_PROGRAMS)

    processing = processed(dossier, pdf_of(LETTER, to_unicode=REPLACEMENT), "garbled.pdf")

    assert processing.state == State.DONE, processing.reason
    assert (
        "fails the text-quality gate: the extracted text is mostly unreadable"
        in (step(processing, "extract")["detail"])
    )
    assert step(processing, "plan")["detail"] == (
        "the text failed the quality gate: OCR reads the pages (the extracted text is mostly "
        "unreadable characters (100 % replacement characters))"
    )
    assert "every page rendered and read again" in step(processing, "ocr")["detail"]
    assert "examiner objects to the lack of unity" in text_of(processing)
    assert (processing.quality, processing.quality_reason) == ("ok", "")
    assert processing.languages == ["en"]


def test_when_ocr_fails_the_extracted_text_stays_with_a_warning(dossier, settings):
    require_programs(*OCR_PROGRAMS)
    settings.EDMS_OCR_TIMEOUT = 1

    processing = processed(dossier, pdf_of(LETTER, to_unicode=REPLACEMENT, pages=3), "garbled.pdf")

    assert step(processing, "ocr") | {"ms": 0} == {
        "name": "ocr",
        "state": "failed",
        "ms": 0,
        "detail": "not read again: reading the file took too long: ask for a simpler copy "
        "(printed to PDF) (timed out after 1 s)",
    }
    warned(
        processing,
        "the extracted text is mostly unreadable characters (100 % replacement characters); "
        "OCR could not read it: reading the file took too long: ask for a simpler copy "
        "(printed to PDF)",
    )
    assert processing.text_id is not None


def test_a_private_use_text_layer_without_ocr_ends_done_with_a_warning(dossier, without_ocr):
    processing = processed(dossier, pdf_of(LETTER, to_unicode=PRIVATE_USE), "private.pdf")

    warned(
        processing,
        "the extracted text is mostly control or private characters (100 %): the fonts "
        "probably lack a map to Unicode",
    )
    assert step(processing, "plan")["state"] == "skipped"
    assert "not OCR'd: OCR is disabled: tesseract not found" in step(processing, "plan")["detail"]
    assert processing.text_id is not None  # the text stays, for what it is worth


def test_garbled_words_without_ocr_end_done_with_a_warning(dossier, without_ocr):
    processing = processed(dossier, pdf_of(LETTER, to_unicode=CONSONANTS), "consonants.pdf")

    assert processing.quality == "warning"
    assert processing.quality_reason.endswith("of the words look like words: the text is "
                                              "probably garbled")  # fmt: skip


def test_pages_with_almost_no_text_still_warn_after_ocr(dossier):
    require_programs(*OCR_PROGRAMS)

    processing = processed(dossier, pdf_of(["A1"], pages=3), "sparse.pdf")

    assert "ocr" in [s["name"] for s in processing.steps]
    reason = processing.quality_reason
    assert reason.startswith("only ") and reason.endswith(
        " for 3 pages: the pages are probably images (after OCR)"
    )
    warned(processing, reason)


# --- A version without text says why --------------------------------------------------------


def test_a_pdf_of_blank_pages_says_its_pages_are_blank(dossier):
    processing = processed(dossier, pdf_of([], pages=2), "blank.pdf")

    warned(processing, "no text: every page is blank")
    assert processing.text_id is None
    assert "ocr" not in [s["name"] for s in processing.steps]  # nothing to read on a blank page


def test_a_vector_drawing_says_ocr_found_no_text_on_its_pages(dossier):
    require_programs(*OCR_PROGRAMS)

    processing = processed(dossier, drawing_pdf(), "drawing.pdf")

    assert "ocr" in [s["name"] for s in processing.steps]
    warned(processing, "no text: OCR found none on the pages (drawings, photos or blank scans)")


def test_a_vector_drawing_ocr_fails_on_ends_done_saying_so(dossier, settings):
    require_programs(*OCR_PROGRAMS)
    settings.EDMS_OCR_TIMEOUT = 1

    processing = processed(dossier, drawing_pdf(), "drawing.pdf")

    warned(
        processing,
        "no text: the pages have no text layer, and OCR could not read them: reading the file "
        "took too long: ask for a simpler copy (printed to PDF)",
    )
    assert "(timed out after 1 s)" in step(processing, "ocr")["detail"]  # for operators


def test_a_drawing_says_ocr_found_no_text_in_it(dossier):
    require_programs(*OCR_PROGRAMS)

    processing = processed(dossier, drawing_png(), "drawing.png")

    warned(processing, "no text: OCR found none in the image (a photo, a drawing or a blank page)")


def test_an_image_without_ocr_says_ocr_is_not_available(dossier, without_ocr):
    processing = processed(dossier, drawing_png(), "drawing.png")

    assert processing.quality_reason.startswith(
        "no text: an image, and OCR is not available here (OCR is disabled: tesseract not found"
    )
    warned(processing, processing.quality_reason)


def test_a_scanned_pdf_without_ocr_says_its_pages_are_scans(dossier, without_ocr):
    scan = io.BytesIO()
    Image.open(io.BytesIO(drawing_png())).save(scan, "PDF", resolution=300)

    processing = processed(dossier, scan.getvalue(), "scan.pdf")

    assert processing.quality_reason.startswith(
        "no text: scanned pages, and OCR is not available here (OCR is disabled"
    )
    warned(processing, processing.quality_reason)


def test_an_unknown_format_says_no_reader_knows_it(dossier):
    noise = random.Random(14).randbytes(4000)

    processing = processed(dossier, noise, "data.bin")

    warned(
        processing, "no text: no reader here knows this file's format (application/octet-stream)"
    )


# --- Shown ----------------------------------------------------------------------------------


def test_the_api_the_viewer_and_the_upload_form_show_the_quality_warning(registry, dossier):
    processing = processed(dossier, pdf_of([], pages=1), "blank.pdf")
    document_id = processing.version.document_id

    (version,) = registry.get(f"/api/v1/documents/{document_id}").json()["versions"]
    assert (version["quality"], version["quality_reason"]) == (
        "warning",
        "no text: the page is blank",
    )
    examiner = Client()
    examiner.force_login(UserFactory(role=Role.EXAMINER))
    page = examiner.get(f"/documents/{document_id}").content.decode()
    assert 'id="quality-warning"' in page
    assert "no text: the page is blank" in page
    polled = examiner.get(f"/documents/{document_id}/state").json()  # the upload form's
    assert (polled["state"], polled["quality_warning"]) == ("done", "no text: the page is blank")


def test_a_version_not_yet_processed_has_no_quality_in_the_api(registry, dossier):
    version = file_version(dossier, pdf_of(LETTER), "letter.pdf")

    body = registry.get(f"/api/v1/documents/{version.document_id}").json()
    assert (body["versions"][0]["quality"], body["versions"][0]["quality_reason"]) == (None, "")
