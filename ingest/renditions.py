"""The steps after extraction: plan what else a version needs before its text is complete
(OCR of scans into a searchable PDF/A); then, once it is searchable, its renditions: an office
document's PDF, a first-page thumbnail; and storing renditions."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from django.conf import settings

from dossier import blobstore
from dossier.models import Rendition, RenditionKind, TextQuality, Version
from dossier.processing_facts import record_rendition
from ingest import capabilities
from ingest.languages import detect_languages, ocr_languages
from ingest.models import Processing, Stage, StepState
from ingest.ocr import OCR_IMAGE_TYPES
from ingest.render import PDF_MEDIA_TYPE, THUMBNAIL_MEDIA_TYPE, office_extension
from ingest.sandbox import Limits
from ingest.scripts import debian_package, script_languages, unreadable
from ingest.steps import (
    Run,
    StepFailed,
    StepResult,
    judge_text,
    sandboxed,
    store_file,
    store_text,
)


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
    the version ends done with the quality warning (its extracted text, if any, stays)."""
    processing = run.processing
    languages, scripts_note = ocr_languages_for(run)
    by_the_gate = sent_by_the_gate(processing)
    force = by_the_gate and processing.text_id is not None
    extracted_reason = processing.quality_reason
    preprocessing, left_out = ocr_preprocessing()
    output_path = os.path.join(run.workdir, "ocr.pdf")
    text_path = os.path.join(run.workdir, "ocr.txt")
    try:
        found = sandboxed(
            run,
            "ingest.ocr:ocr_to_pdfa",
            {
                "path": run.readable,
                "media_type": processing.media_type,
                "languages": languages,
                "output_path": output_path,
                "text_path": text_path,
                "preprocessing": preprocessing,
                "force": force,
            },
            network=False,
            limits=Limits(
                timeout_s=settings.EDMS_OCR_TIMEOUT, memory_mib=settings.EDMS_OCR_MEMORY_MIB
            ),
        )
    except StepFailed as failure:
        if not by_the_gate:
            raise  # a scan OCR cannot read fails: it has nothing else
        # What extraction found, if poor (or nothing), is still a done version, warned.
        run.ocr_failure = failure.detail or failure.sentence
        processing.quality_reason = f"{extracted_reason}; OCR failed: {run.ocr_failure}"
        processing.save(update_fields=["quality_reason"])
        return StepResult(f"not read again: {failure.described}", StepState.FAILED)
    kind = RenditionKind.PDFA
    save_rendition(run.version, kind, output_path, PDF_MEDIA_TYPE, filename="ocr.pdf")
    run.rendered_pdf = output_path
    run.ocr_ran = True
    text = Path(text_path).read_text(encoding="utf-8", errors="replace")
    if processing.page_count is None:
        processing.page_count = found["pages"]
    if text.strip():
        processing.text = store_text(text_path)
        processing.text_chars = len(text)
        processing.languages = detect_languages(text)
        verdict = judge_text(run, text)
        if not verdict.ok:
            processing.quality_reason = f"{verdict.reason} (after OCR)"
    elif processing.text_id is not None:  # the unreadable extraction stays: say so
        processing.quality_reason = f"{extracted_reason}; OCR found no text either"
    processing.save(
        update_fields=["text", "text_chars", "languages", "page_count", "quality", "quality_reason"]
    )
    pdfa = f"PDF/A-{found['pdfa']}" if found["pdfa"] else "PDF (not PDF/A)"
    notes = _preprocessing_notes(found["turned"], preprocessing) + left_out
    if force:
        notes.insert(0, "every page rendered and read again: the text layer was unreadable")
    return StepResult(
        f"{found['pages']} page(s) read in {'+'.join(languages)}{scripts_note}: "
        f"{len(text.strip())} characters, {pdfa}" + "".join(f"; {note}" for note in notes)
    )


def ocr_languages_for(run: Run) -> tuple[list[str], str]:
    """The Tesseract languages to OCR the version with, and a note on the scripts found (''
    when none were looked for): the document's declared language (with the dossier's and the
    office's), or else those of the scripts Tesseract sees on its pages (`ingest.scripts`)."""
    document = run.version.document
    installed = capabilities.tesseract_languages()
    office = (document.dossier.language, settings.EDMS_OCR_LANGUAGES)
    if document.language:
        return ocr_languages(document.language, *office, installed=installed), ""
    if not capabilities.tesseract_osd():
        note = " (script not detected: Tesseract's osd pack is missing)"
        return ocr_languages(*office, installed=installed), note
    try:
        found = sandboxed(
            run,
            "ingest.scripts:page_scripts",
            {"path": run.readable, "media_type": run.processing.media_type},
            network=False,
            limits=Limits(
                timeout_s=settings.EDMS_OCR_TIMEOUT, memory_mib=settings.EDMS_OCR_MEMORY_MIB
            ),
        )
    except StepFailed as failure:  # OCR in the office's languages beats no OCR
        note = f" (script not detected: {failure.described})"
        return ocr_languages(*office, installed=installed), note
    scripts = [page["script"] for page in found["scripts"]]
    languages = script_languages(scripts, *office, installed=installed)
    note = _scripts_note(found["scripts"], installed)
    if len(found["looked_at"]) < found["pages"]:
        note += f"; {len(found['looked_at'])} of {found['pages']} pages looked at"
    return languages, f" ({note})"


def _scripts_note(pages: list[dict], installed: tuple[str, ...]) -> str:
    """'script detected: Arabic', 'scripts detected: Arabic (pages 1, 3), Latin (page 2)',
    'no script detected: too little text', and the scripts no installed pack reads."""
    if not pages:
        return "no script detected: too little text"
    by_script: dict[str, list[str]] = {}
    for page in pages:
        by_script.setdefault(page["script"], []).append(str(page["page"]))
    if len(by_script) == 1:
        note = f"script detected: {pages[0]['script']}"
    else:
        note = "scripts detected: " + ", ".join(
            f"{script} (page{'s' if len(numbers) > 1 else ''} {', '.join(numbers)})"
            for script, numbers in by_script.items()
        )
    for script in unreadable(by_script, installed):
        note += f"; no Tesseract pack reads {script}: install {debian_package(script)}"
    return note


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


def thumbnail(run: Run) -> StepResult | None:
    """The first page as a PNG, from the PDF made in this stage or the original PDF or image.
    Not fatal: a version without a thumbnail is still readable and searchable."""
    media_type = run.processing.media_type
    if run.next_stage:
        return None  # the next stage makes it, from its own PDF
    if run.rendered_pdf:
        source, media_type = run.rendered_pdf, PDF_MEDIA_TYPE
    elif media_type == PDF_MEDIA_TYPE:
        source = run.readable
    elif media_type in OCR_IMAGE_TYPES:
        source = run.source
    else:
        return None
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


def save_rendition(
    version: Version, kind: str, path: str, media_type: str, filename: str
) -> Rendition:
    """Store a rendition and list it on the version, replacing one of the same kind."""
    blob = store_file(path, filename=filename, media_type=media_type)
    return record_rendition(version, kind, blob, media_type)
