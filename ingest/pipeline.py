"""The pipeline run on every version, in stages that each run as a task on its own queue:

    extract  fetch → identify → extract → plan
    ocr      OCR to a searchable PDF/A, its text replacing the empty extraction

then done: the text is stored and `document.processed` announced, so search indexes it at once.
Renditions follow on the `render` queue and never delay "searchable":

    render   office document → PDF with LibreOffice; first-page thumbnail

That is bulk work's way; interactive work (see `dossier.lanes`) runs every stage, renditions
included, on the `interactive` queue, whose worker bulk work never occupies. Each step is a small
function taking the `Run` and returning what it did; steps that read the untrusted file do so in
the sandbox child (`ingest.sandbox`). A stage is claimed with a conditional UPDATE, so running it
twice (a redelivered task, a double click on "reprocess") is harmless, and a claim whose worker
died is taken over once its heartbeat is older than the lease (`ingest.lease`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from dossier import blobstore, lanes
from dossier.events import append_event
from dossier.lanes import Lane
from dossier.models import EventKind, Version
from dossier.processing_facts import (
    ProcessingFacts,
    record_processing_facts,
    withdraw_processing_facts,
)
from ingest import lease, tika_metadata
from ingest.extractors import load as load_extractor
from ingest.identify import identify as sniff
from ingest.identify import is_pdf
from ingest.languages import detect_languages
from ingest.models import Processing, Stage, State, StepState
from ingest.renditions import (
    local_rendition,
    ocr,
    office_pdf,
    plan,
    renditions_due,
    thumbnail,
)
from ingest.sandbox import Limits
from ingest.steps import (
    TEXT_MEDIA_TYPE,
    Run,
    StepFailed,
    StepResult,
    TransientFault,
    sandboxed,
    store_text,
)

__all__ = ["TEXT_MEDIA_TYPE", "StepFailed", "TransientFault", "process_version", "queue"]

log = logging.getLogger(__name__)

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
        found |= sandboxed(
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
    found = sandboxed(
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


Step = Callable[[Run], StepResult | None]
STAGES: dict[str, list[tuple[str, Step]]] = {
    Stage.EXTRACT: [
        ("fetch", fetch),
        ("identify", identify),
        ("extract", extract),
        ("plan", plan),
    ],
    # Later stages fetch the original again (their worker may be another machine), unrecorded.
    Stage.OCR: [("ocr", ocr)],
}
# After the version is done (searchable), on the render queue; each step makes what applies.
RENDITIONS: list[tuple[str, Step]] = [("pdf", office_pdf), ("thumbnail", thumbnail)]


# --- Running --------------------------------------------------------------------------------


def claim(
    version_id: int, stage: str = Stage.EXTRACT, runner: lease.Runner | None = None
) -> Processing | None:
    """Take the version's processing if it is pending in `stage` (or its runner stopped
    beating: `lease.expired`); else None. Claiming the first stage starts afresh: what an
    earlier run found is cleared."""
    now = timezone.now()
    runner = runner or lease.this_runner()
    claimable = Q(state=State.PENDING) | lease.expired(now)
    fresh_start = {}
    if stage == Stage.EXTRACT:
        fresh_start = {
            "finished_at": None,
            "attempts": F("attempts") + 1,
            "reason": "",
            "steps": [],
            "media_type": "",
            "page_count": None,
            "languages": [],
            "metadata": {},
            "text": None,
            "text_chars": None,
            "renditions_state": "",
            "renditions_at": None,
        }
    with transaction.atomic():
        taken = Processing.objects.filter(claimable, version_id=version_id, stage=stage).update(
            state=State.RUNNING,
            started_at=now,
            heartbeat_at=now,
            runner_host=runner.host,
            runner_pid=runner.pid,
            **fresh_start,
        )
        if not taken:
            return None
        if stage == Stage.EXTRACT:
            withdraw_processing_facts(version_id)  # this run finds them again
    return Processing.objects.select_related("version__blob", "version__document__dossier").get(
        version_id=version_id
    )


def process_version(
    version_id: int,
    *,
    stage: str = Stage.EXTRACT,
    final_attempt: bool = True,
    worker: str | None = None,
) -> Processing | None:
    """Run one stage of the pipeline on a version. Returns quietly (None) for a missing version
    or one that is not pending in this stage. Raises `TransientFault` (after putting the work
    back to pending) unless this is the `final_attempt`. A stage that needs another hands the
    version over to that stage's queue (pending again) instead of finishing it. `worker` is the
    Celery worker's hostname, recorded as the runner (with this pid) while the stage runs."""
    if not Version.objects.filter(pk=version_id).exists():
        return None
    Processing.objects.get_or_create(version_id=version_id)
    runner = lease.this_runner(worker)
    processing = claim(version_id, stage, runner)
    if processing is None:
        return None
    run_dir = Path(settings.FILE_UPLOAD_TEMP_DIR)
    run_dir.mkdir(parents=True, exist_ok=True)
    # In the version's lane: what it announces (`document.processed`) and hands over stays there.
    with (
        lanes.using(processing.lane),
        lease.heartbeat(processing, runner),
        tempfile.TemporaryDirectory(dir=run_dir, prefix="ingest-") as workdir,
    ):
        run = Run(processing=processing, workdir=workdir, limits=limits())
        try:
            if stage != Stage.EXTRACT:
                fetch(run)
            for name, step in STAGES[stage]:
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
            if run.next_stage:
                _hand_over(processing, run.next_stage)
            else:
                _finish(processing, State.DONE, "")
    return processing


def run_to_completion(version_id: int) -> Processing | None:
    """Run every stage of a version in this process, one after the other, then make its
    renditions (tests, benchmarks)."""
    processing = process_version(version_id)
    while processing is not None and processing.state == State.PENDING:
        processing = process_version(version_id, stage=processing.stage)
    if processing is not None and processing.renditions_state == State.PENDING:
        processing = make_renditions(version_id) or processing
    return processing


def renditions_stale_after() -> dt.timedelta:
    """Longer than making a version's renditions can take (LibreOffice, then the thumbnail)."""
    seconds = settings.EDMS_RENDER_TIMEOUT + settings.EDMS_INGEST_TIMEOUT + 60
    return dt.timedelta(seconds=seconds)


def claim_renditions(version_id: int) -> Processing | None:
    """Take the renditions of a done version if they are pending (or their runner died)."""
    now = timezone.now()
    claimable = Q(renditions_state=State.PENDING) | Q(
        renditions_state=State.RUNNING, renditions_at__lt=now - renditions_stale_after()
    )
    taken = Processing.objects.filter(claimable, version_id=version_id, state=State.DONE).update(
        renditions_state=State.RUNNING, renditions_at=now
    )
    if not taken:
        return None
    return Processing.objects.select_related("version__blob", "version__document__dossier").get(
        version_id=version_id
    )


def make_renditions(version_id: int, *, final_attempt: bool = True) -> Processing | None:
    """Make a done version's renditions (its office PDF, its thumbnail). Returns quietly (None)
    when they are not pending. A rendition that cannot be made is a failed step, never a failed
    version: its text is stored and searchable already."""
    processing = claim_renditions(version_id)
    if processing is None:
        return None
    claimed = Processing.objects.filter(
        pk=processing.pk, renditions_state=State.RUNNING, renditions_at=processing.renditions_at
    )
    run_dir = Path(settings.FILE_UPLOAD_TEMP_DIR)
    run_dir.mkdir(parents=True, exist_ok=True)
    outcome = State.DONE
    with tempfile.TemporaryDirectory(dir=run_dir, prefix="render-") as workdir:
        run = Run(processing=processing, workdir=workdir, limits=rendition_limits())
        try:
            fetch(run)
            run.rendered_pdf = local_rendition(run)
            for name, step in RENDITIONS:
                _perform(run, name, step, record=claimed)
        except StepFailed:
            outcome = State.FAILED
        except TransientFault:
            if not final_attempt:
                claimed.update(renditions_state=State.PENDING, renditions_at=timezone.now())
                raise
            outcome = State.FAILED
        except Exception:
            log.exception("renditions of version %s failed", version_id)
            outcome = State.FAILED
    # Unless a reprocessing took the version over meanwhile (it makes them again).
    claimed.update(renditions_state=outcome)
    processing.renditions_state = outcome
    return processing


def _perform(run: Run, name: str, step: Step, *, record=None) -> None:
    started = time.monotonic()
    try:
        result = step(run)
    except StepFailed as failure:
        _record_step(run.processing, name, StepState.FAILED, started, failure.reason, record)
        raise
    if result is not None:
        _record_step(run.processing, name, result.state, started, result.detail, record)


def _record_step(
    processing: Processing, name: str, state: str, started: float, detail: str, record=None
):
    """Append the step to the processing's list; `record`: only through this queryset (the
    renditions' steps are recorded only while their claim holds)."""
    elapsed_ms = round((time.monotonic() - started) * 1000)
    processing.steps = [
        *processing.steps,
        {"name": name, "state": str(state), "ms": elapsed_ms, "detail": detail},
    ]
    if record is None:
        processing.save(update_fields=["steps"])
    else:
        record.update(steps=processing.steps)


def _finish(processing: Processing, state: str, reason: str) -> None:
    """Record the outcome and, in the same transaction, what the run found as facts on the
    version and the announcement (search indexes the text); a done version's renditions are
    queued once that is committed."""
    processing.state = state
    processing.reason = reason
    processing.finished_at = timezone.now()
    due = state == State.DONE and renditions_due(processing)
    processing.renditions_state = State.PENDING if due else ""
    processing.renditions_at = processing.finished_at if due else None
    version = Version.objects.select_related("document__dossier").get(pk=processing.version_id)
    with transaction.atomic():
        processing.save(
            update_fields=["state", "reason", "finished_at", "renditions_state", "renditions_at"]
        )
        record_processing_facts(version.pk, facts_of(processing))
        if due:
            transaction.on_commit(lambda: queue(processing.version_id, Stage.RENDER))
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


def facts_of(processing: Processing) -> ProcessingFacts:
    """What a finished run leaves for others; its text only if it finished done (searchable)."""
    return ProcessingFacts(
        media_type=processing.media_type,
        page_count=processing.page_count,
        languages=processing.languages,
        metadata=processing.metadata,
        text_sha256=(processing.text_id or "") if processing.state == State.DONE else "",
    )


def _hand_over(processing: Processing, stage: str) -> None:
    processing.state = State.PENDING
    processing.stage = stage
    processing.started_at = None
    processing.queued_at = timezone.now()
    processing.save(update_fields=["state", "stage", "started_at", "queued_at"])
    transaction.on_commit(lambda: queue(processing.version_id, stage, processing.lane))


def requeue_stalled_renditions() -> int:
    """Queue again the renditions whose task was lost: pending longer than
    `EDMS_REQUEUE_AFTER`, or claimed by a runner silent past their limit (a requeue hook of
    `edms sweep`, registered by `ingest.apps`). Returns how many were sent."""
    now = timezone.now()
    waiting = Q(
        renditions_state=State.PENDING,
        renditions_at__lt=now - dt.timedelta(seconds=settings.EDMS_REQUEUE_AFTER),
    )
    dead = Q(renditions_state=State.RUNNING, renditions_at__lt=now - renditions_stale_after())
    stalled = list(Processing.objects.filter(waiting | dead).values_list("pk", "version_id"))
    for pk, version_id in stalled:
        # Stamped first, so the next sweep waits a full period before sending it once more.
        Processing.objects.filter(pk=pk, renditions_state=State.PENDING).update(renditions_at=now)
        queue(version_id, Stage.RENDER)
    return len(stalled)


def _release(processing: Processing) -> None:
    Processing.objects.filter(pk=processing.pk, state=State.RUNNING).update(
        state=State.PENDING, started_at=None
    )


# --- Requests -------------------------------------------------------------------------------


class AlreadyRunning(Exception):
    """Reprocessing was asked for while a run is in progress."""


def request_processing(
    version: Version, *, again: bool = False, lane: Lane | None = None
) -> Processing:
    """Mark the version for (re)processing and queue it once the transaction commits, in `lane`
    (default: the lane in effect). A version already known keeps its lane unless processed
    `again`."""
    lane = Lane(lane or lanes.current())
    processing, created = Processing.objects.get_or_create(version=version, defaults={"lane": lane})
    if again and not created:
        reset = (
            Processing.objects.filter(pk=processing.pk)
            .exclude(lease.alive(timezone.now()))
            .update(
                state=State.PENDING,
                stage=Stage.EXTRACT,
                reason="",
                queued_at=timezone.now(),
                lane=lane,
            )
        )
        if not reset:
            raise AlreadyRunning(f"version {version.number} is being processed right now")
        processing.refresh_from_db()
    if processing.state == State.PENDING:
        stage, lane = processing.stage, processing.lane
        transaction.on_commit(lambda: queue(version.pk, stage, lane))
    return processing


def queue_of(lane: str) -> str | None:
    """The queue every stage of interactive work goes to; None for bulk work, whose stages go
    to their own queues (`extract`, `ocr`, `render`: CELERY_TASK_ROUTES)."""
    return settings.EDMS_INTERACTIVE_QUEUE if lane == Lane.INTERACTIVE else None


# Each stage's task, by name: `ingest.tasks` defines them and imports this module, which sends
# them through Celery's registry (`IngestConfig.ready` imports the tasks, so every process has
# them registered, and a test's eager mode runs them in place).
STAGE_TASKS = {
    Stage.EXTRACT: "ingest.tasks.process_version",
    Stage.OCR: "ingest.tasks.ocr_version",
    Stage.RENDER: "ingest.tasks.render_version",
}


def queue(version_id: int, stage: str = Stage.EXTRACT, lane: str | None = None) -> None:
    """Send the task of the version's `stage` to its lane's queue (`lane` defaults to the one
    recorded on its processing, as when the sweeper queues it again), its id recorded on the
    pending row first (so the sweeper can tell a task waiting in the broker from one that is
    gone). `Stage.RENDER` sends the renditions' task (made after the text)."""
    task = current_app.tasks[STAGE_TASKS[stage]]
    if lane is None:
        recorded = Processing.objects.filter(version_id=version_id).values_list("lane", flat=True)
        lane = recorded.first() or lanes.current()
    target = queue_of(lane)
    task_id = str(uuid.uuid4())
    Processing.objects.filter(version_id=version_id, stage=stage, state=State.PENDING).update(
        task_id=task_id, queued_at=timezone.now()
    )
    try:
        # A retry goes back to the queue the task came from (Celery keeps its routing key).
        task.apply_async((version_id,), task_id=task_id, **({"queue": target} if target else {}))
    except Exception:
        # The row stays pending with a task the broker does not hold: the sweeper sends it.
        log.exception("could not queue %s of version %s", stage, version_id)
