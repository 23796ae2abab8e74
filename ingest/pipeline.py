"""The pipeline run on every version, in stages that each run as a task on its own queue:

    extract  fetch → identify → decode → extract → plan → quality
    ocr      OCR to a searchable PDF/A, its text replacing the empty or unreadable extraction
             → quality

(`quality`: the text-quality gate's last word, recorded when the text fails it or is missing.)

then done: the text is stored and `document.processed` announced, so search indexes it at once.
Renditions follow on the `render` queue and never delay "searchable":

    render   office document → PDF with LibreOffice; first-page thumbnail

That is bulk work's way; interactive work (see `dossier.lanes`) runs every stage, renditions
included, on the `interactive` queue, whose worker bulk work never occupies. The steps of each
stage are `ingest.stages`; asking for processing and queueing a stage's task, `ingest.queueing`;
this module runs a stage and records its outcome. A stage is claimed with a conditional UPDATE,
so running it twice (a redelivered task, a double click on "reprocess") is harmless, and a claim
whose worker died is taken over once its heartbeat is older than the lease (`ingest.lease`).
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from dossier import lanes, log_context
from dossier.events import append_event
from dossier.models import EventKind, Version
from dossier.processing_facts import (
    ProcessingFacts,
    record_processing_facts,
    withdraw_processing_facts,
)
from ingest import lease, reasons
from ingest.models import Processing, Stage, State, StepState
from ingest.queueing import STAGE_TASKS, AlreadyRunning, queue, queue_of, request_processing
from ingest.renditions import local_rendition, renditions_due
from ingest.stages import (
    RENDITION_NICENESS,
    RENDITIONS,
    STAGES,
    Step,
    fetch,
    limits,
    rendition_limits,
)
from ingest.steps import TEXT_MEDIA_TYPE, Run, StepFailed, TransientFault, store_text
from metrics.instruments import STEP_DURATION

# What other modules use of ingest's processing comes through here: the stages' steps live in
# `ingest.stages`, asking and queueing in `ingest.queueing`.
__all__ = [
    "RENDITION_NICENESS",
    "STAGE_TASKS",
    "TEXT_MEDIA_TYPE",
    "AlreadyRunning",
    "StepFailed",
    "TransientFault",
    "claim",
    "limits",
    "make_renditions",
    "process_version",
    "queue",
    "queue_of",
    "rendition_limits",
    "request_processing",
    "requeue_stalled_renditions",
    "run_to_completion",
    "store_text",
]

log = logging.getLogger(__name__)


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
            "reason_code": "",
            "steps": [],
            "media_type": "",
            "page_count": None,
            "languages": [],
            "metadata": {},
            "text": None,
            "text_chars": None,
            "quality": "",
            "quality_reason": "",
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
        working_on(processing),
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
            _finish(processing, State.FAILED, failure.code)
        except TransientFault as fault:
            if final_attempt:
                _record_step(processing, "retries", StepState.FAILED, time.monotonic(), str(fault))
                _finish(processing, State.FAILED, "gave-up-retrying")
            else:
                _release(processing)
                raise
        except Exception as exc:
            log.exception("ingestion of version %s failed", version_id)
            detail = f"{type(exc).__name__}: {exc}"[:2000]
            _record_step(processing, "internal error", StepState.FAILED, time.monotonic(), detail)
            _finish(processing, State.FAILED, "internal-error")
        else:
            if run.next_stage:
                _hand_over(processing, run.next_stage)
            else:
                _finish(processing, State.DONE, "")
    return processing


def working_on(processing: Processing) -> AbstractContextManager[None]:
    """Log lines written while the version is processed name it, its document and dossier."""
    version = processing.version
    return log_context.bound(
        version_id=version.pk,
        document_id=str(version.document_id),
        dossier_key=version.document.dossier.key,
    )


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
    with (
        working_on(processing),
        tempfile.TemporaryDirectory(dir=run_dir, prefix="render-") as workdir,
    ):
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
        # The raw technical detail is for operators: it goes here, never in the reason.
        detail = failure.detail or failure.sentence
        _record_step(run.processing, name, StepState.FAILED, started, detail, record)
        raise
    if result is not None:
        _record_step(run.processing, name, result.state, started, result.detail, record)


def _record_step(
    processing: Processing, name: str, state: str, started: float, detail: str, record=None
):
    """Append the step to the processing's list; `record`: only through this queryset (the
    renditions' steps are recorded only while their claim holds)."""
    elapsed = time.monotonic() - started
    STEP_DURATION.labels(step=name, state=str(state)).observe(elapsed)
    elapsed_ms = round(elapsed * 1000)
    processing.steps = [
        *processing.steps,
        {"name": name, "state": str(state), "ms": elapsed_ms, "detail": detail},
    ]
    if record is None:
        processing.save(update_fields=["steps"])
    else:
        record.update(steps=processing.steps)


def _finish(processing: Processing, state: str, reason_code: str) -> None:
    """Record the outcome (a failure's reason: a code of `ingest.reasons`, "" when done) and,
    in the same transaction, what the run found as facts on the version and the announcement
    (search indexes the text); a done version's renditions are queued once that is committed."""
    processing.state = state
    processing.reason_code = reason_code
    processing.reason = reasons.get(reason_code).sentence if reason_code else ""
    processing.finished_at = timezone.now()
    due = state == State.DONE and renditions_due(processing)
    processing.renditions_state = State.PENDING if due else ""
    processing.renditions_at = processing.finished_at if due else None
    version = Version.objects.select_related("document__dossier").get(pk=processing.version_id)
    with transaction.atomic():
        processing.save(
            update_fields=[
                "state",
                "reason",
                "reason_code",
                "finished_at",
                "renditions_state",
                "renditions_at",
            ]
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
    # One line per processed version, for whoever follows ingestion in the logs.
    level = logging.INFO if state == State.DONE else logging.WARNING
    outcome = f"{state} ({reason_code})" if reason_code else str(state)
    log.log(level, "processing of version %s ended: %s", version.pk, outcome)


def facts_of(processing: Processing) -> ProcessingFacts:
    """What a finished run leaves for others; its text only if it finished done (searchable)."""
    return ProcessingFacts(
        media_type=processing.media_type,
        page_count=processing.page_count,
        languages=processing.languages,
        metadata=processing.metadata,
        text_sha256=(processing.text_id or "") if processing.state == State.DONE else "",
        quality=processing.quality if processing.state == State.DONE else "",
        quality_reason=processing.quality_reason if processing.state == State.DONE else "",
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
