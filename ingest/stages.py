"""What each stage of the pipeline does, step by step (`ingest.pipeline` runs them), and the
limits its sandbox children run under. Each step is a small function taking the `Run` and
returning what it did; steps that read the untrusted file do so in the sandbox child
(`ingest.sandbox`)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from dossier import blobstore
from dossier.models import TextQuality
from ingest import fallbacks, quality, tika_metadata
from ingest.decoding import decode
from ingest.extractors import load as load_extractor
from ingest.identify import PDF_MEDIA_TYPE, is_pdf, misnamed_archive
from ingest.identify import identify as sniff
from ingest.languages import detect_languages
from ingest.models import Stage, StepState
from ingest.renditions import (
    image_pdf,
    ocr,
    ocr_wanted,
    office_pdf,
    page_hashes,
    plan,
    thumbnail,
)
from ingest.sandbox import Limits
from ingest.steps import (
    Run,
    StepFailed,
    StepResult,
    TransientFault,
    judge_text,
    sandboxed,
    store_text,
)

# --- Configuration --------------------------------------------------------------------------


def limits() -> Limits:
    return Limits(
        timeout_s=settings.EDMS_INGEST_TIMEOUT,
        memory_mib=settings.EDMS_INGEST_MEMORY_MIB,
    )


# Added to the niceness of the sandbox children making renditions (0 to 19).
RENDITION_NICENESS = 10


def rendition_limits() -> Limits:
    """Renditions never delay "searchable": their children run at a lower CPU priority."""
    return dataclasses.replace(limits(), nice=RENDITION_NICENESS)


# --- Steps ----------------------------------------------------------------------------------


def fetch(run: Run) -> StepResult:
    """Make the original available as a local file (blob storage may be S3)."""
    sha256 = run.version.blob_id
    local = blobstore.local_path(sha256)
    if local is not None and os.path.exists(local):
        run.source = run.readable = local
        return StepResult("read from local blob storage")
    if local is not None:
        raise StepFailed("original-missing", f"no file at {local}")
    target = os.path.join(run.workdir, "original")
    try:
        with open(target, "wb") as handle:
            for chunk in blobstore.read_chunks(sha256):
                handle.write(chunk)
    except blobstore.BlobMissing:
        raise StepFailed("original-missing", f"blob {sha256} is not in storage") from None
    except OSError as exc:
        raise TransientFault(f"could not read the original from storage: {exc}") from exc
    run.source = run.readable = target
    return StepResult(f"downloaded {os.path.getsize(target)} bytes")


def identify(run: Run) -> StepResult:
    """Media type by content; for PDFs page count, encryption, PDF/A claim, xref repair."""
    found = sniff(path=run.source, filename=run.version.filename)
    if misnamed_archive(found["media_type"], run.version.filename):
        # Before qpdf: it would find a PDF stored in the archive and call the file damaged.
        run.processing.media_type = found["media_type"]
        run.processing.save(update_fields=["media_type"])
        detail = f"named {run.version.filename!r}, its content is {found['media_type']}"
        raise StepFailed("zip-named-pdf", detail)
    refused: StepFailed | None = None
    if is_pdf(run.source, found["media_type"]):
        try:
            found |= sandboxed(
                run,
                "ingest.identify:inspect_pdf",
                {"path": run.source, "workdir": run.workdir},
                network=False,
            )
        except StepFailed as failure:  # other readers may still read it (`ingest.fallbacks`)
            refused = failure
            encrypted = failure.code == "encrypted-pdf"
            found |= {"media_type": PDF_MEDIA_TYPE, "refused": refused, "encrypted": encrypted}
    run.identity = found
    run.readable = found.get("repaired_path") or run.source
    processing = run.processing
    processing.media_type = found["media_type"]
    processing.page_count = found["page_count"]
    processing.metadata = {"encrypted": found["encrypted"], "pdfa": found["pdfa"]}
    processing.save(update_fields=["media_type", "page_count", "metadata"])
    if refused:
        return StepResult(
            f"qpdf refused it: {refused.detail}; trying other readers", StepState.FAILED
        )
    return StepResult(found["detail"])


def extract(run: Run) -> StepResult:
    """Text and document metadata through the configured extractor; the text becomes a blob."""
    extractor = load_extractor(settings.EDMS_EXTRACTOR)
    text_path = os.path.join(run.workdir, "text.txt")
    found, after = fallbacks.extract(
        run,
        extractor=extractor.name,
        text_path=text_path,
        primary=lambda: sandboxed(
            run,
            "ingest.extractors:extract_to_file",
            {
                "path": run.readable,
                "config": settings.EDMS_EXTRACTOR,
                "max_chars": settings.EDMS_INGEST_MAX_TEXT_CHARS,
                "text_path": text_path,
            },
            network=extractor.needs_network,
            warm_up=getattr(extractor, "warm_up", None),
        ),
    )
    text = Path(text_path).read_text(encoding="utf-8", errors="replace")
    processing = run.processing
    processing.text = store_text(text_path) if text.strip() else None
    processing.text_chars = len(text) if text.strip() else 0
    processing.languages = detect_languages(text)
    summary = tika_metadata.summary(found["metadata"])
    processing.metadata = {
        **summary,
        "encrypted": summary["encrypted"] or processing.metadata.get("encrypted", False),
        "pdfa": processing.metadata.get("pdfa") or summary["pdfa"],
        **run.identity.get("metadata", {}),  # what `decode` found: charset, patent fields
        "reader": found["reader"],
    }
    settled = run.identity.get("settled_media_type")
    if found["media_type"] and processing.media_type != "application/pdf" and not settled:
        processing.media_type = found["media_type"]
    if processing.page_count is None:
        processing.page_count = found.get("pages") or tika_metadata.page_count(found["metadata"])
    verdict = judge_text(run, text)
    run.identity["unsupported_format"] = NO_PARSER in found["metadata"].get(PARSED_BY, [])
    processing.save()
    detail = f"{len(text)} characters by {found['reader']}{after}"
    if processing.languages:
        detail += f", language {'+'.join(processing.languages)}"
    if found["truncated"]:
        detail += f" (truncated at {settings.EDMS_INGEST_MAX_TEXT_CHARS} characters)"
    if text.strip() and not verdict.ok:
        detail += f"; fails the text-quality gate: {verdict.reason}"
    return StepResult(detail)


# Tika's record of the parsers that read a file: only its EmptyParser means no parser knew it.
PARSED_BY = "X-TIKA:Parsed-By"
NO_PARSER = "org.apache.tika.parser.EmptyParser"


def text_check(run: Run) -> StepResult | None:
    """The last step of a stage that finishes the version: a version done without text says
    why (from what identification and extraction found, and whether OCR ran), and a text that
    failed the quality gate says so here too. Nothing is recorded for a text that passed."""
    if run.next_stage:
        return None  # the next stage reads the version again
    processing = run.processing
    if processing.text_id is None:
        wanted, capability = ocr_wanted(processing, run.identity)
        processing.quality = TextQuality.WARNING
        processing.quality_reason = quality.no_text_reason(
            media_type=processing.media_type,
            page_count=processing.page_count,
            blank_pages=run.identity.get("blank_pages", 0),
            scanned_pages=run.identity.get("scanned_pages", 0),
            ocr_readable=wanted,
            ocr_ran=run.ocr_ran,
            ocr_unavailable=capability.detail if wanted and not capability.enabled else "",
            ocr_failure=run.ocr_failure,
        )
        if run.identity.get("unsupported_format"):
            processing.quality_reason = (
                f"no text: no reader here knows this file's format ({processing.media_type})"
            )
        processing.save(update_fields=["quality", "quality_reason"])
    if processing.quality != TextQuality.WARNING:
        return None
    return StepResult(f"warning: {processing.quality_reason}")


Step = Callable[[Run], StepResult | None]
STAGES: dict[str, list[tuple[str, Step]]] = {
    Stage.EXTRACT: [
        ("fetch", fetch),
        ("identify", identify),
        ("decode", decode),
        ("extract", extract),
        ("plan", plan),
        ("quality", text_check),
    ],
    # Later stages fetch the original again (their worker may be another machine), unrecorded.
    Stage.OCR: [("ocr", ocr), ("quality", text_check)],
}
# After the version is done (searchable), on the render queue; each step makes what applies.
RENDITIONS: list[tuple[str, Step]] = [
    ("pdf", office_pdf),
    ("pdf", image_pdf),  # of a TIFF or HEIC image OCR made no PDF/A of
    ("thumbnail", thumbnail),
    ("page hashes", page_hashes),
]
