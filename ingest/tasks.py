"""Celery tasks of ingestion: thin, taking ids only, safe to run twice.

One task per stage, each on its own queue (`extract`, `ocr`, `render`; see CELERY_TASK_ROUTES),
so a backlog of scans to OCR never delays the text of born-digital files, and renditions (made
after the text, on `render`) never delay search. Interactive work sends every stage to the
`interactive` queue instead (`pipeline.queue`, `dossier.lanes`).
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

from ingest import pipeline, sweeper
from ingest.models import Stage

log = logging.getLogger(__name__)

# Every stage is idempotent (claimed with a conditional UPDATE), so a task lost with its worker
# may be redelivered (`acks_late`); only transient faults are retried, with backoff and jitter.
RETRYING = {
    "bind": True,
    "ignore_result": True,
    "acks_late": True,
    "autoretry_for": (pipeline.TransientFault,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(name=pipeline.STAGE_TASKS[Stage.EXTRACT], **RETRYING)
def process_version(self, version_id: int) -> None:
    """Identify and extract (queue `extract`); hands over to OCR or render when needed."""
    _run_stage(self, version_id, Stage.EXTRACT)


@shared_task(name=pipeline.STAGE_TASKS[Stage.OCR], **RETRYING)
def ocr_version(self, version_id: int) -> None:
    """OCR a scan into a searchable PDF/A (queue `ocr`)."""
    _run_stage(self, version_id, Stage.OCR)


@shared_task(name=pipeline.STAGE_TASKS[Stage.RENDER], **RETRYING)
def render_version(self, version_id: int) -> None:
    """A searchable version's renditions: an office document's PDF, the thumbnail (queue
    `render`)."""
    final = self.request.retries >= self.max_retries
    pipeline.make_renditions(version_id, final_attempt=final)


def _run_stage(task, version_id: int, stage: str) -> None:
    final = task.request.retries >= task.max_retries
    pipeline.process_version(
        version_id, stage=stage, final_attempt=final, worker=task.request.hostname
    )


@worker_ready.connect
def resume_interrupted_work(sender, **kwargs) -> None:
    """A worker back under its hostname (the supervisor restarts it so) queues again at once
    what it was running when it died, instead of leaving it to the sweeper."""
    try:
        sweeper.resume_interrupted(sender.hostname)
    except Exception:
        log.exception("could not queue interrupted work again; the sweeper will")
