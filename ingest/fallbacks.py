"""Fallback chains: when the configured extractor refuses a file, the next reader for its kind
tries before the version fails.

    pdf     pdfium → pdftotext (poppler, when installed)
    office  LibreOffice → PDF → pdfium
    image   image → PDF (img2pdf, else Pillow), proving it decodes; the OCR stage then reads
            the image as it reads every scan (`ingest.renditions.ocr`)

Each reader runs in a sandbox child of its own (`ingest.readers`); the first that reads text
wins (an image: that decodes, its text comes from OCR), and the result names it, so the extract
step says which reader produced the text and after what ("by pdfium after tika-embedded failed:
…"). When none can, the extractor's reason stands (or qpdf's), as it would without fallbacks,
and the failing step's detail says what each reader said. A file that ran the extractor out of
its limits (time, memory) or crashed it is not tried further.

Two refusals are quieter than an error, and are treated as one:
- an office document in which the extractor finds no text at all (Tika has no parser for Lotus
  1-2-3, for instance, and returns nothing rather than failing);
- a PDF qpdf refused in `identify` that the extractor reads without text: a text layer found by
  no reader would hide the reason (a damaged PDF) behind an empty "done".
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable

from django.conf import settings

from ingest import capabilities
from ingest.identify import PDF_MEDIA_TYPE, looks_like_pdf
from ingest.ocr import OCR_IMAGE_TYPES
from ingest.render import office_extension
from ingest.steps import Run, StepFailed, sandboxed

log = logging.getLogger(__name__)

PDF, OFFICE, IMAGE = "pdf", "office", "image"
# Kind → the readers tried, in order, after the extractor.
READERS: dict[str, tuple[str, ...]] = {
    PDF: ("pdfium", "pdftotext"),
    OFFICE: ("libreoffice",),
    IMAGE: ("img2pdf",),
}
# The readers that run a program, and how to find it (a reader without its program is skipped).
PROGRAMS: dict[str, Callable[[], str | None]] = {
    "pdftotext": lambda: capabilities.which("pdftotext"),
    "libreoffice": capabilities.soffice,
}
# What LibreOffice opens that the extractor may not, by file name extension: current and old
# office formats, templates, flat (single XML file) ODF, and rare ones an office still receives.
LIBREOFFICE_EXTENSIONS = frozenset(
    {
        *("doc", "docx", "docm", "dot", "dotx", "dotm", "rtf", "odt", "ott", "fodt"),
        *("xls", "xlsx", "xlsm", "xlsb", "xlt", "xltx", "xltm", "ods", "ots", "fods"),
        *("ppt", "pptx", "pptm", "pps", "ppsx", "pot", "potx", "potm", "odp", "otp", "fodp"),
        *("odg", "otg", "fodg", "vsd", "vsdx", "vsdm", "vdx", "pub"),
        *("wps", "wks", "wdb"),  # Microsoft Works
        *("wk1", "wk3", "wk4", "123", "wq1", "wq2", "wb1", "wb2", "wb3", "qpw"),  # Lotus, Quattro
        # StarOffice
        *("sxw", "stw", "sxc", "stc", "sxi", "sti", "sxd", "std", "sdw", "sdc", "sdd"),
        *("hwp", "wpd", "lwp", "abw", "602", "key", "pages", "numbers"),
    }
)


def kind_of(path: str, media_type: str, filename: str) -> str | None:
    """Which fallback chain a file takes: PDF, OFFICE, IMAGE, or None (no other reader)."""
    if media_type == PDF_MEDIA_TYPE or looks_like_pdf(path):
        return PDF
    if media_type in OCR_IMAGE_TYPES:
        return IMAGE
    if _office_extension(media_type, filename):
        return OFFICE
    return None


def extract(
    run: Run, *, extractor: str, text_path: str, primary: Callable[[], dict]
) -> tuple[dict, str]:
    """Text by `primary` (the extractor named `extractor`, in the sandbox), else by the readers
    for the file's kind. Returns the extractor-shaped result with `"reader"` added, and what the
    detail says after the reader (" after tika-embedded failed: …"; "" when the extractor read
    a sound file). Raises `StepFailed` with qpdf's reason, else the extractor's, when no reader
    can; its detail says what each of them said ("qpdf refused it: …; tika-embedded: …;
    pdfium: …")."""
    refused: StepFailed | None = run.identity.get("refused")  # qpdf's, from `identify`
    said = [f"qpdf refused it: {refused.detail}"] if refused else []
    try:
        found = primary()
    except StepFailed as failure:
        if failure.exhausted:
            # A file that timed the extractor out, filled its memory or crashed it is not handed
            # to the next reader: a hostile file would cost each reader its whole limit, and
            # what a person must see is that reason.
            raise
        found, verdict = None, refused or failure
        said.append(f"{extractor}: {failure.detail or failure.sentence}")
        after = f" after {extractor} failed: {failure.detail or failure.sentence}"
    else:
        read = {**found, "reader": extractor}
        if _read_text(text_path):
            return read, refused and f" although qpdf refused it: {refused.detail}"
        if not _worth_another_reader(run, refused):
            return read, ""
        verdict, after = refused, f" after {extractor} found no text"
        said.append(f"{extractor}: no text")
        if refused:
            after += f" and qpdf refused it: {refused.detail}"
    rescued = _rescue(run, text_path, encrypted=verdict is not None and _encrypted(verdict))
    if isinstance(rescued, dict):
        return rescued, after
    if verdict is not None:
        raise StepFailed(verdict.code, "; ".join([*said, *rescued]))
    return read, ""  # an office document with no text, read by no other reader either


def _encrypted(failure: StepFailed) -> bool:
    return failure.code in ("encrypted-pdf", "encrypted-document")


def _worth_another_reader(run: Run, refused: StepFailed | None) -> bool:
    """An extraction without text that another reader may improve on (see the module's doc)."""
    if refused is not None:
        return True
    return kind_of(run.readable, run.processing.media_type, run.version.filename) == OFFICE


def _rescue(run: Run, text_path: str, *, encrypted: bool) -> dict | list[str]:
    """The first of the kind's readers that reads the file, as an extractor's result; else
    what each reader said ("pdfium: Data format error"), for the failing step's detail."""
    kind = kind_of(run.readable, run.processing.media_type, run.version.filename)
    if kind is None or (kind == OFFICE and encrypted):
        return []  # no reader of office documents opens one without its password
    tried = []
    for reader in READERS[kind]:
        program = PROGRAMS[reader]() if reader in PROGRAMS else ""
        if program is None:
            tried.append(f"{reader}: not installed")
            continue
        try:
            found = sandboxed(
                run,
                "ingest.readers:read",
                {
                    "reader": reader,
                    "path": run.readable,
                    "text_path": text_path,
                    "max_chars": settings.EDMS_INGEST_MAX_TEXT_CHARS,
                    "extension": _office_extension(run.processing.media_type, run.version.filename),
                    "program": program,
                },
                network=False,
                limits=_limits(run, reader),
            )
        except StepFailed as failure:
            tried.append(f"{reader}: {failure.detail or failure.sentence}")
            continue
        if kind == IMAGE or _read_text(text_path):
            return _as_extraction(found)
        tried.append(f"{reader}: no text")
    log.info("no fallback reader read version %s: %s", run.version.pk, tried)
    return tried


def _limits(run: Run, reader: str):
    if reader == "libreoffice":  # as for the office rendition LibreOffice makes
        return dataclasses.replace(run.limits, timeout_s=settings.EDMS_RENDER_TIMEOUT)
    return run.limits


def _as_extraction(found: dict) -> dict:
    """A reader's result in the shape of the extractor's (`ingest.extractors.extract_to_file`)."""
    return {
        "media_type": "",
        "metadata": {},
        "truncated": found["truncated"],
        "chars": found["chars"],
        "pages": found["pages"],
        "reader": found["reader"],
    }


def _office_extension(media_type: str, filename: str) -> str:
    """The extension LibreOffice is handed the file with (it picks its import filter by it): the
    file's own when LibreOffice reads it; for a file named without one, that of its detected
    media type. "" for any other file: LibreOffice imports a binary it does not know as plain
    text, and its "text" would be the file's bytes (seen with a Microsoft Project file)."""
    extension = os.path.splitext(filename or "")[1].lstrip(".").lower()
    if extension in LIBREOFFICE_EXTENSIONS:
        return extension
    return "" if extension else (office_extension(media_type) or "")


def _read_text(text_path: str) -> bool:
    """Whether the text file holds anything but white space."""
    try:
        with open(text_path, encoding="utf-8", errors="replace") as handle:
            return any(chunk.strip() for chunk in iter(lambda: handle.read(65536), ""))
    except FileNotFoundError:
        return False
