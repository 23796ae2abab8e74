"""The steps after extraction: plan what else a version needs before its text is complete
(OCR of scans into a searchable PDF/A); then, once it is searchable, its renditions: an office
document's PDF (or an image's that the browser cannot show and OCR did not make a PDF/A of), a
first-page thumbnail, every page's perceptual hash (for the near-duplicate check); and storing
renditions."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from django.conf import settings

from dossier import blobstore
from dossier.models import Rendition, RenditionKind, TextQuality, Version
from dossier.processing_facts import record_page_hashes, record_rendition
from ingest import capabilities, quality
from ingest.image_formats import SHOWN_AS_PDF_IMAGE_TYPES
from ingest.languages import detect_languages
from ingest.models import Processing, Stage, StepState
from ingest.ocr import OCR_IMAGE_TYPES
from ingest.reading_languages import first_choice, second_choice
from ingest.render import PDF_MEDIA_TYPE, THUMBNAIL_MEDIA_TYPE, office_extension
from ingest.sandbox import Limits
from ingest.steps import (
    Run,
    StepFailed,
    StepResult,
    judge_text,
    sandboxed,
    store_file,
    store_text,
)
from metrics.instruments import OCR_PAGES


def needs_ocr(processing: Processing, identity: dict) -> bool:
    """Scanned paper: an image, or a PDF with (almost) no text whose pages hold images and no
    fonts (a born-digital PDF with three words on its page is not a scan)."""
    if processing.media_type.startswith("image/"):
        return processing.media_type in OCR_IMAGE_TYPES
    if processing.media_type != PDF_MEDIA_TYPE or not identity.get("scanned_pages"):
        return False
    return (processing.text_chars or 0) <= 20 * max(processing.page_count or 1, 1)


# What `plan` records when the quality gate, not a scan, sends a PDF to OCR (the OCR stage, maybe
# on another machine, reads it back: such a PDF's pages are all read again, and OCR failing on
# it leaves the version done with its warning, not failed).
GATE_HAND_OVER = "the text failed the quality gate: OCR reads the pages"


def sent_by_the_gate(processing: Processing) -> bool:
    return any(
        step["name"] == "plan" and step["detail"].startswith(GATE_HAND_OVER)
        for step in processing.steps
    )


def unreadable_pdf(processing: Processing, identity: dict) -> bool:
    """A PDF whose text failed the quality gate (garbled, or (almost) none) and whose pages are
    not all blank: OCR of its rendered pages may read it."""
    if processing.media_type != PDF_MEDIA_TYPE or processing.quality != TextQuality.WARNING:
        return False
    return identity.get("blank_pages", 0) < (processing.page_count or 1)


def ocr_wanted(processing: Processing, identity: dict) -> tuple[bool, capabilities.Capability]:
    """Whether the version's text should come from OCR (a scan, or a PDF whose text failed the
    quality gate), and whether OCR is available here."""
    wanted = needs_ocr(processing, identity) or unreadable_pdf(processing, identity)
    return wanted, capabilities.ocr_capability()


def plan(run: Run) -> StepResult | None:
    """Hand the version to the OCR queue when its text needs OCR (a scan, or a PDF whose text
    failed the quality gate; when OCR is enabled). Say so when an office document's PDF cannot
    be made here (its renditions follow the text)."""
    processing = run.processing
    wanted, ocr_enabled = ocr_wanted(processing, run.identity)
    if wanted:
        if ocr_enabled.enabled:
            run.next_stage = Stage.OCR
            if needs_ocr(processing, run.identity):
                return None  # a scan: OCR is its way to a text
            return StepResult(f"{GATE_HAND_OVER} ({processing.quality_reason})")
        if processing.text_id is not None and processing.quality == TextQuality.WARNING:
            return StepResult(
                f"{processing.quality_reason}; not OCR'd: {ocr_enabled.detail}", StepState.SKIPPED
            )
        return StepResult(f"no text layer; {ocr_enabled.detail}", StepState.SKIPPED)
    if office_extension(processing.media_type):
        office = capabilities.office_capability()
        if not office.enabled:
            return StepResult(office.detail, StepState.SKIPPED)
    return None


def renditions_due(processing: Processing) -> bool:
    """Whether a processed version gets renditions: an office document's PDF (when LibreOffice
    is there), a thumbnail of a PDF or a raster image."""
    media_type = processing.media_type
    if office_extension(media_type):
        return capabilities.office_capability().enabled
    return media_type == PDF_MEDIA_TYPE or media_type in OCR_IMAGE_TYPES


def local_rendition(run: Run) -> str:
    """The searchable PDF/A that OCR made of the version, as a local file ("" if none): its
    thumbnail shows what the viewer shows."""
    rendition = Rendition.objects.filter(version=run.version, kind=RenditionKind.PDFA).first()
    if rendition is None:
        return ""
    local = blobstore.local_path(rendition.blob_id)
    if local is not None:
        return local if os.path.exists(local) else ""
    target = os.path.join(run.workdir, "rendition.pdf")
    try:
        with open(target, "wb") as handle:
            for chunk in blobstore.read_chunks(rendition.blob_id):
                handle.write(chunk)
    except (blobstore.BlobMissing, OSError):
        return ""
    return target


def ocr(run: Run) -> StepResult:
    """OCR (OCRmyPDF + Tesseract) into a searchable PDF/A; its text replaces the extraction.
    A PDF the quality gate sent here has every page of a text layer rendered and read again
    (`force`); a scan's pages that do have text keep it. When OCR fails on a PDF the gate sent,
    the version ends done with the quality warning (its extracted text, if any, stays). A text
    that fails the gate (or none) is read again once in the packs of a script found on the
    pages that the first languages do not cover (`ingest.reading_languages`); the pass whose
    text passes is kept, else the first with its warning."""
    processing = run.processing
    choice = first_choice(run)
    by_the_gate = sent_by_the_gate(processing)
    force = by_the_gate and processing.text_id is not None
    extracted_reason, extracted_languages = processing.quality_reason, processing.languages
    preprocessing, left_out = ocr_preprocessing()
    try:
        found = _ocr_pass(run, choice.languages, preprocessing, force=force, name="ocr")
    except StepFailed as failure:
        if not by_the_gate:
            raise  # a scan OCR cannot read fails: it has nothing else
        # What extraction found, if poor (or nothing), is still a done version, warned.
        # The warning is for a clerk: the catalogue's sentence; the tool's own words go in the
        # step's detail, for operators.
        run.ocr_failure = failure.sentence
        processing.quality_reason = f"{extracted_reason}; OCR could not read it: {failure.sentence}"
        processing.save(update_fields=["quality_reason"])
        return StepResult(f"not read again: {failure.described}", StepState.FAILED)
    verdict = _judge_ocr_text(run, found["text"])
    tried, retry_note = [choice.languages], ""
    again = None if verdict.ok else second_choice(run, choice)
    if again is not None:
        tried.append(again.languages)
        retry_note, kept = _read_again(
            run, choice.languages, again, preprocessing, force=force, failed=verdict
        )
        if kept is not None:
            found, choice = kept, again
    kind = RenditionKind.PDFA
    save_rendition(run.version, kind, found["pdf_path"], PDF_MEDIA_TYPE, filename="ocr.pdf")
    run.rendered_pdf = found["pdf_path"]
    run.ocr_ran = True
    text = found["text"]
    if processing.page_count is None:
        processing.page_count = found["pages"]
    if text.strip():
        processing.text = store_text(found["text_path"])
        processing.text_chars = len(text)
        verdict = _judge_ocr_text(run, text)
        if not verdict.ok:
            processing.quality_reason = f"{verdict.reason} (after OCR)"
    else:
        processing.languages = extracted_languages
    if not text.strip() and processing.text_id is not None:  # the unreadable extraction stays
        processing.quality = TextQuality.WARNING
        processing.quality_reason = f"{extracted_reason}; OCR found no text either"
    processing.metadata = {**processing.metadata, "ocr_languages": choice.languages}
    if len(tried) > 1:
        processing.metadata["ocr_languages_tried"] = tried
    processing.save(
        update_fields=[
            *("text", "text_chars", "languages", "page_count"),
            *("quality", "quality_reason", "metadata"),
        ]
    )
    pdfa = f"PDF/A-{found['pdfa']}" if found["pdfa"] else "PDF (not PDF/A)"
    notes = _preprocessing_notes(found["turned"], preprocessing) + left_out
    if found.get("converter") == "pillow":
        notes.insert(0, "image decoded by Pillow first: img2pdf cannot embed it as it is")
    if force:
        notes.insert(0, "every page rendered and read again: the text layer was unreadable")
    return StepResult(
        f"{found['pages']} page(s) read in {'+'.join(choice.languages)}{choice.note}"
        f"{retry_note}: {len(text.strip())} characters, {pdfa}"
        + "".join(f"; {note}" for note in notes)
    )


def _ocr_pass(
    run: Run, languages: list[str], preprocessing: dict, *, force: bool, name: str
) -> dict:
    """One OCR of the version in `languages` (sandboxed): `ocr_to_pdfa`'s result with the
    PDF's and the text's paths and the text itself."""
    output_path = os.path.join(run.workdir, f"{name}.pdf")
    text_path = os.path.join(run.workdir, f"{name}.txt")
    found = sandboxed(
        run,
        "ingest.ocr:ocr_to_pdfa",
        {
            "path": run.readable,
            "media_type": run.processing.media_type,
            "languages": languages,
            "output_path": output_path,
            "text_path": text_path,
            "preprocessing": preprocessing,
            "force": force,
        },
        network=False,
        limits=Limits(timeout_s=settings.EDMS_OCR_TIMEOUT, memory_mib=settings.EDMS_OCR_MEMORY_MIB),
        warm_up="ingest.ocr:preload",
    )
    OCR_PAGES.inc(found["pages"])
    text = Path(text_path).read_text(encoding="utf-8", errors="replace")
    return {**found, "pdf_path": output_path, "text_path": text_path, "text": text}


def _judge_ocr_text(run: Run, text: str) -> quality.Verdict:
    """The gate's verdict on an OCR'd text, its languages detected (both on the processing)."""
    run.processing.languages = detect_languages(text)
    return judge_text(run, text, ocr=True)


def _read_again(
    run: Run, first: list[str], again, preprocessing: dict, *, force: bool, failed
) -> tuple[str, dict | None]:
    """OCR the version again in `again`'s languages: what the step's detail says about it, and
    the pass (`_ocr_pass`) when its text passes the gate (None: the first pass stays)."""
    why = failed.reason or "no text was found"
    try:
        found = _ocr_pass(run, again.languages, preprocessing, force=force, name="ocr-again")
    except StepFailed as failure:
        return f"; read again in {'+'.join(again.languages)}: {failure.described}", None
    verdict = _judge_ocr_text(run, found["text"])
    if found["text"].strip() and verdict.ok:
        return f", after {'+'.join(first)} failed the text-quality gate ({why})", found
    return (
        f"; read again in {'+'.join(again.languages)}{again.note}, which fails the "
        f"text-quality gate too ({verdict.reason or 'no text was found'})",
        None,
    )


def ocr_preprocessing() -> tuple[dict[str, bool | float], list[str]]:
    """OCRmyPDF's preprocessing options from the settings, less those this machine lacks the
    programs for (system checks ingest.W004/W005), and notes saying which were left out: a scan
    is better OCR'd unrotated or uncleaned than not at all."""
    options = {
        "rotate_pages": settings.EDMS_OCR_ROTATE_PAGES,
        "deskew": settings.EDMS_OCR_DESKEW,
        "clean": settings.EDMS_OCR_CLEAN or settings.EDMS_OCR_CLEAN_FINAL,
        "clean_final": settings.EDMS_OCR_CLEAN_FINAL,
    }
    left_out = []
    if options["rotate_pages"] and not capabilities.tesseract_osd():
        options["rotate_pages"] = False
        left_out.append("not turned upright: Tesseract's osd pack is missing")
    if options["rotate_pages"]:  # OCRmyPDF refuses a threshold without rotation
        options["rotate_pages_threshold"] = settings.EDMS_OCR_ROTATE_PAGES_THRESHOLD
    if options["clean"] and capabilities.which("unpaper") is None:
        options["clean"] = options["clean_final"] = False
        left_out.append("not cleaned: unpaper not found")
    return options, left_out


def _preprocessing_notes(turned: int, preprocessing: dict[str, bool | float]) -> list[str]:
    notes = [f"{turned} turned upright"] if turned else []
    if preprocessing["deskew"]:
        notes.append("deskewed")
    if preprocessing["clean_final"]:
        notes.append("cleaned (unpaper)")
    elif preprocessing["clean"]:
        notes.append("cleaned for OCR (unpaper)")
    return notes


def office_pdf(run: Run) -> StepResult | None:
    """A PDF for viewing an office document, made by LibreOffice. Not fatal: the text is there."""
    if not office_extension(run.processing.media_type):
        return None
    output_path = os.path.join(run.workdir, "office.pdf")
    try:
        found = sandboxed(
            run,
            "ingest.render:office_to_pdf",
            {
                "path": run.source,
                "extension": office_extension(run.processing.media_type),
                "soffice": capabilities.soffice(),
                "output_path": output_path,
            },
            network=False,
            limits=dataclasses.replace(run.limits, timeout_s=settings.EDMS_RENDER_TIMEOUT),
        )
    except StepFailed as failure:
        return StepResult(failure.described, StepState.FAILED)
    save_rendition(run.version, RenditionKind.PDF, output_path, PDF_MEDIA_TYPE, "view.pdf")
    run.rendered_pdf = output_path
    return StepResult(f"{found['pages']} page(s) by LibreOffice")


def image_pdf(run: Run) -> StepResult | None:
    """A PDF of an image the browser cannot show (a TIFF fax, a HEIC photo), every frame a
    page, when OCR made no PDF/A of it (OCR is not available here): the viewer shows that.
    Not fatal: the version stays downloadable."""
    if run.processing.media_type not in SHOWN_AS_PDF_IMAGE_TYPES or run.rendered_pdf:
        return None
    output_path = os.path.join(run.workdir, "image.pdf")
    try:
        found = sandboxed(
            run,
            "ingest.image_pdf:image_to_pdf",
            {"path": run.source, "output_path": output_path},
            network=False,
        )
    except StepFailed as failure:
        return StepResult(failure.described, StepState.FAILED)
    save_rendition(run.version, RenditionKind.PDF, output_path, PDF_MEDIA_TYPE, "view.pdf")
    run.rendered_pdf = output_path
    return StepResult(f"{found['pages']} page(s) by {found['converter']}")


def _page_source(run: Run) -> tuple[str, str] | None:
    """What the version's pages are drawn from, and its media type: the PDF made in this stage
    (what the viewer shows), else the original PDF or image; None: nothing with pages."""
    media_type = run.processing.media_type
    if run.rendered_pdf:
        return run.rendered_pdf, PDF_MEDIA_TYPE
    if media_type == PDF_MEDIA_TYPE:
        return run.readable, media_type
    if media_type in OCR_IMAGE_TYPES:
        return run.source, media_type
    return None


def thumbnail(run: Run) -> StepResult | None:
    """The first page as a PNG, from the PDF made in this stage or the original PDF or image.
    Not fatal: a version without a thumbnail is still readable and searchable."""
    if run.next_stage:
        return None  # the next stage makes it, from its own PDF
    if (found_source := _page_source(run)) is None:
        return None
    source, media_type = found_source
    output_path = os.path.join(run.workdir, "thumbnail.png")
    params = {"path": source, "media_type": media_type, "output_path": output_path}
    try:
        found = sandboxed(
            run,
            "ingest.render:thumbnail",
            params | {"width": settings.EDMS_THUMBNAIL_WIDTH},
            network=False,
        )
    except StepFailed as failure:
        return StepResult(failure.described, StepState.FAILED)
    save_rendition(
        run.version, RenditionKind.THUMBNAIL, output_path, THUMBNAIL_MEDIA_TYPE, "page-1.png"
    )
    return StepResult(f"{found['width']}x{found['height']} PNG")


def page_hashes(run: Run) -> StepResult | None:
    """Every page's perceptual hash (the first `EDMS_DUPLICATE_PAGES`), drawn from what the
    thumbnail is, recorded on the version for the near-duplicate check. Not fatal: without
    them the check compares the thumbnail."""
    if run.next_stage or (found_source := _page_source(run)) is None:
        return None
    source, media_type = found_source
    try:
        found = sandboxed(
            run,
            "ingest.page_hashing:page_hashes",
            {"path": source, "media_type": media_type, "max_pages": settings.EDMS_DUPLICATE_PAGES},
            network=False,
        )
    except StepFailed as failure:
        return StepResult(failure.described, StepState.FAILED)
    hashes = found["hashes"]
    record_page_hashes(run.version, hashes, found["pages"])
    blank = sum(1 for value in hashes if value is None)
    return StepResult(
        f"{len(hashes)} of {found['pages']} page(s) hashed" + (f", {blank} blank" if blank else "")
    )


def save_rendition(
    version: Version, kind: str, path: str, media_type: str, filename: str
) -> Rendition:
    """Store a rendition and list it on the version, replacing one of the same kind."""
    blob = store_file(path, filename=filename, media_type=media_type)
    return record_rendition(version, kind, blob, media_type)
