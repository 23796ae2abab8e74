"""The pipeline run on every version: fetch → identify → extract (→ OCR → renditions, later
slices) → done.

Each step is a small function taking the `Run` and returning what it did; steps that read the
untrusted file do so in the sandbox child (`ingest.sandbox`). A run is claimed with a conditional
UPDATE, so running it twice (a redelivered task, a double click on "reprocess") is harmless, and
a claim whose worker died is taken over once it is older than `stale_after()`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from dossier import blobstore
from dossier.events import append_event
from dossier.models import Blob, EventKind, Version
from ingest import tika_metadata
from ingest.extractors import load as load_extractor
from ingest.identify import identify as sniff
from ingest.identify import is_pdf
from ingest.languages import detect_languages
from ingest.models import Processing, State, StepState
from ingest.sandbox import Limits, SandboxFailure
from ingest.sandbox import run as run_sandboxed

log = logging.getLogger(__name__)

TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"


class StepFailed(Exception):
    """A permanent failure of this version's processing, with a reason for a person."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


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

    @property
    def version(self) -> Version:
        return self.processing.version


# --- Configuration --------------------------------------------------------------------------


def limits() -> Limits:
    return Limits(
        timeout_s=settings.EDMS_INGEST_TIMEOUT,
        memory_mib=settings.EDMS_INGEST_MEMORY_MIB,
    )


def stale_after() -> dt.timedelta:
    # Longer than every sandboxed step of one run can take.
    return dt.timedelta(seconds=3 * settings.EDMS_INGEST_TIMEOUT + 60)


# --- Steps ----------------------------------------------------------------------------------


def fetch(run: Run) -> StepResult:
    """Make the original available as a local file (blob storage may be S3)."""
    sha256 = run.version.blob_id
    local = blobstore.local_path(sha256)
    if local is not None and os.path.exists(local):
        run.source = run.readable = local
        return StepResult("read from local blob storage")
    if local is not None:
        raise StepFailed("the original's content is missing from storage; restore it first")
    target = os.path.join(run.workdir, "original")
    try:
        with open(target, "wb") as handle:
            for chunk in blobstore.read_chunks(sha256):
                handle.write(chunk)
    except blobstore.BlobMissing:
        raise StepFailed(
            "the original's content is missing from storage; restore it first"
        ) from None
    except OSError as exc:
        raise TransientFault(f"could not read the original from storage: {exc}") from exc
    run.source = run.readable = target
    return StepResult(f"downloaded {os.path.getsize(target)} bytes")


def identify(run: Run) -> StepResult:
    """Media type by content; for PDFs page count, encryption, PDF/A claim, xref repair."""
    found = sniff(path=run.source, filename=run.version.filename)
    if is_pdf(run.source, found["media_type"]):
        found |= _sandboxed(
            run,
            "ingest.identify:inspect_pdf",
            {"path": run.source, "workdir": run.workdir},
            network=False,
        )
    run.identity = found
    run.readable = found.get("repaired_path") or run.source
    processing = run.processing
    processing.media_type = found["media_type"]
    processing.page_count = found["page_count"]
    processing.metadata = {"encrypted": found["encrypted"], "pdfa": found["pdfa"]}
    processing.save(update_fields=["media_type", "page_count", "metadata"])
    return StepResult(found["detail"])


def extract(run: Run) -> StepResult:
    """Text and document metadata through the configured extractor; the text becomes a blob."""
    extractor = load_extractor(settings.EDMS_EXTRACTOR)
    text_path = os.path.join(run.workdir, "text.txt")
    found = _sandboxed(
        run,
        "ingest.extractors:extract_to_file",
        {
            "path": run.readable,
            "config": settings.EDMS_EXTRACTOR,
            "max_chars": settings.EDMS_INGEST_MAX_TEXT_CHARS,
            "text_path": text_path,
        },
        network=extractor.needs_network,
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
    }
    if found["media_type"] and processing.media_type != "application/pdf":
        processing.media_type = found["media_type"]
    if processing.page_count is None:
        processing.page_count = tika_metadata.page_count(found["metadata"])
    processing.save()
    detail = f"{len(text)} characters by {extractor.name}"
    if processing.languages:
        detail += f", language {'+'.join(processing.languages)}"
    if found["truncated"]:
        detail += f" (truncated at {settings.EDMS_INGEST_MAX_TEXT_CHARS} characters)"
    return StepResult(detail)


def ocr(run: Run) -> StepResult | None:
    """Seam for the OCR slice: say so when a version would need OCR; run nothing yet."""
    processing = run.processing
    has_text = (processing.text_chars or 0) > 20 * max(processing.page_count or 1, 1)
    scannable = processing.media_type.startswith("image/") or processing.media_type == (
        "application/pdf"
    )
    if has_text or not scannable:
        return None
    return StepResult("no text layer; OCR is not enabled in this version", StepState.SKIPPED)


STEPS: list[tuple[str, Callable[[Run], StepResult | None]]] = [
    ("fetch", fetch),
    ("identify", identify),
    ("extract", extract),
    ("ocr", ocr),
    # Later slices: ("renditions", renditions), ("index", hand_over_to_search).
]


def _sandboxed(run: Run, operation: str, params: dict, *, network: bool) -> dict:
    limits = Limits(**{**run.limits.__dict__, "isolate_network": not network})
    try:
        return run_sandboxed(operation, params, limits=limits, workdir=run.workdir)
    except SandboxFailure as failure:
        if failure.transient:
            raise TransientFault(failure.reason) from None
        raise StepFailed(failure.reason) from None


def store_text(path: str) -> Blob:
    """Store extracted text content-addressed, like originals (identical text is stored once)."""
    with open(path, "rb") as handle:
        staged = blobstore.spool(
            iter(lambda: handle.read(blobstore.CHUNK_SIZE), b""),
            filename="text.txt",
            declared_type=TEXT_MEDIA_TYPE,
        )
    try:
        blobstore.promote(staged)
    finally:
        staged.discard()
    blob, _ = Blob.objects.get_or_create(
        sha256=staged.sha256, defaults={"size": staged.size, "media_type": TEXT_MEDIA_TYPE}
    )
    return blob


# --- Running --------------------------------------------------------------------------------


def claim(version_id: int) -> Processing | None:
    """Take the version's processing if it is pending (or its runner died); else None."""
    now = timezone.now()
    claimable = Q(state=State.PENDING) | Q(state=State.RUNNING, started_at__lt=now - stale_after())
    taken = Processing.objects.filter(claimable, version_id=version_id).update(
        state=State.RUNNING,
        started_at=now,
        finished_at=None,
        attempts=F("attempts") + 1,
        reason="",
        steps=[],
        media_type="",
        page_count=None,
        languages=[],
        metadata={},
        text=None,
        text_chars=None,
    )
    if not taken:
        return None
    return Processing.objects.select_related("version__blob").get(version_id=version_id)


def process_version(version_id: int, *, final_attempt: bool = True) -> Processing | None:
    """Run the pipeline on one version. Returns quietly (None) for a missing version or one
    that is already processed or being processed. Raises `TransientFault` (after putting the
    work back to pending) unless this is the `final_attempt`."""
    if not Version.objects.filter(pk=version_id).exists():
        return None
    Processing.objects.get_or_create(version_id=version_id)
    processing = claim(version_id)
    if processing is None:
        return None
    run_dir = Path(settings.FILE_UPLOAD_TEMP_DIR)
    run_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=run_dir, prefix="ingest-") as workdir:
        run = Run(processing=processing, workdir=workdir, limits=limits())
        try:
            for name, step in STEPS:
                _perform(run, name, step)
        except StepFailed as failure:
            _finish(processing, State.FAILED, failure.reason)
        except TransientFault as fault:
            if final_attempt:
                _finish(processing, State.FAILED, f"{fault} (gave up after retrying)")
            else:
                _release(processing)
                raise
        except Exception:
            log.exception("ingestion of version %s failed", version_id)
            _finish(processing, State.FAILED, "internal error while processing; see the logs")
        else:
            _finish(processing, State.DONE, "")
    return processing


def _perform(run: Run, name: str, step: Callable[[Run], StepResult | None]) -> None:
    started = time.monotonic()
    try:
        result = step(run)
    except StepFailed as failure:
        _record_step(run.processing, name, StepState.FAILED, started, failure.reason)
        raise
    if result is not None:
        _record_step(run.processing, name, result.state, started, result.detail)


def _record_step(processing: Processing, name: str, state: str, started: float, detail: str):
    elapsed_ms = round((time.monotonic() - started) * 1000)
    processing.steps = [
        *processing.steps,
        {"name": name, "state": str(state), "ms": elapsed_ms, "detail": detail},
    ]
    processing.save(update_fields=["steps"])


def _finish(processing: Processing, state: str, reason: str) -> None:
    """Record the outcome and, in the same transaction, announce it (search indexes the text)."""
    processing.state = state
    processing.reason = reason
    processing.finished_at = timezone.now()
    version = Version.objects.select_related("document__dossier").get(pk=processing.version_id)
    with transaction.atomic():
        processing.save(update_fields=["state", "reason", "finished_at"])
        append_event(
            EventKind.DOCUMENT_PROCESSED,
            dossier_key=version.document.dossier.key,
            document_id=version.document_id,
            version=version.number,
            payload={
                "documentId": str(version.document_id),
                "version": version.number,
                "state": str(state),
                "languages": processing.languages,
            },
        )


def _release(processing: Processing) -> None:
    Processing.objects.filter(pk=processing.pk, state=State.RUNNING).update(
        state=State.PENDING, started_at=None
    )


# --- Requests -------------------------------------------------------------------------------


class AlreadyRunning(Exception):
    """Reprocessing was asked for while a run is in progress."""


def request_processing(version: Version, *, again: bool = False) -> Processing:
    """Mark the version for (re)processing and queue it once the transaction commits."""
    processing, created = Processing.objects.get_or_create(version=version)
    if again and not created:
        fresh = timezone.now() - stale_after()
        reset = (
            Processing.objects.filter(pk=processing.pk)
            .exclude(state=State.RUNNING, started_at__gte=fresh)
            .update(state=State.PENDING, reason="", queued_at=timezone.now())
        )
        if not reset:
            raise AlreadyRunning(f"version {version.number} is being processed right now")
        processing.refresh_from_db()
    if processing.state == State.PENDING:
        transaction.on_commit(lambda: queue(version.pk))
    return processing


def queue(version_id: int) -> None:
    from ingest.tasks import process_version as task

    try:
        task.delay(version_id)
    except Exception:
        # The row stays pending: reprocessing (or the next event) queues it again.
        log.exception("could not queue processing of version %s", version_id)
