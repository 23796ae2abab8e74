"""What every pipeline step shares: the run it works on, its result, its two ways to fail, the
sandbox call, storing what it made (content-addressed, like originals) and judging a text it
read (the text-quality gate)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dossier import blobstore
from dossier.models import Blob, TextQuality, Version
from ingest import quality
from ingest.models import Processing, StepState
from ingest.reasons import ReasonedFailure
from ingest.sandbox import Limits, SandboxFailure
from ingest.sandbox import run as run_sandboxed

TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"


class StepFailed(ReasonedFailure):
    """A permanent failure of this version's processing: a catalogue reason's code
    (`ingest.reasons`, what the processing shows) and the raw detail (the failing step's).
    `exhausted`: the file ran a sandbox child out of its limits or crashed it (see
    `SandboxFailure`)."""

    def __init__(self, code: str, detail: str = "", *, exhausted: bool = False):
        super().__init__(code, detail)
        self.exhausted = exhausted


class TransientFault(Exception):
    """Something outside the file failed (storage, an extractor service): try again later."""


@dataclass
class StepResult:
    detail: str = ""
    state: str = StepState.DONE


@dataclass
class Run:
    processing: Processing
    workdir: str
    limits: Limits
    source: str = ""  # local path of the original (never modified)
    readable: str = ""  # what the extractor reads: the original or qpdf's repair of it
    identity: dict = field(default_factory=dict)
    next_stage: str = ""  # set by `plan`: the queue that takes the version over
    rendered_pdf: str = ""  # a PDF made in this stage (OCR, LibreOffice): its thumbnail source
    ocr_ran: bool = False  # OCR read the version in this stage (whatever it found)
    ocr_failure: str = ""  # why OCR could not read a PDF the quality gate sent to it

    @property
    def version(self) -> Version:
        return self.processing.version


def sandboxed(
    run: Run,
    operation: str,
    params: dict,
    *,
    network: bool,
    limits: Limits | None = None,
    warm_up: str | None = None,
) -> dict:
    limits = Limits(**{**(limits or run.limits).__dict__, "isolate_network": not network})
    try:
        return run_sandboxed(operation, params, limits=limits, workdir=run.workdir, warm_up=warm_up)
    except SandboxFailure as failure:
        if failure.transient:
            raise TransientFault(failure.detail) from None
        raise StepFailed(failure.code, failure.detail, exhausted=failure.exhausted) from None


def store_text(path: str) -> Blob:
    """Store extracted text content-addressed, like originals (identical text is stored once)."""
    return store_file(path, filename="text.txt", media_type=TEXT_MEDIA_TYPE)


def store_file(path: str, *, filename: str, media_type: str) -> Blob:
    """Store a file made by the pipeline content-addressed, like originals (stored once)."""
    with open(path, "rb") as handle:
        staged = blobstore.spool(
            iter(lambda: handle.read(blobstore.CHUNK_SIZE), b""),
            filename=filename,
            declared_type=media_type,
            max_size=2**62,  # made by us from a bounded input, not an upload
        )
    try:
        return Blob.objects.store(staged, media_type=media_type)
    except OSError as exc:
        raise TransientFault(f"could not store {filename}: {exc}") from exc


def judge_text(run: Run, text: str, *, ocr: bool = False) -> quality.Verdict:
    """The text-quality gate (`ingest.quality`) on a text just extracted or OCR'd (`ocr`): its
    verdict goes on the processing (saved by the caller); a warning's reason is final unless a
    later step (OCR) reads the version better."""
    processing = run.processing
    declared = run.version.document.language
    verdict = quality.check(
        text,
        page_count=processing.page_count,
        languages=processing.languages or ([declared] if declared else []),
        ocr=ocr,
    )
    processing.quality = TextQuality.OK if verdict.ok else TextQuality.WARNING
    processing.quality_reason = verdict.reason
    return verdict
