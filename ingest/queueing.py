"""Asking for a version's processing, and sending each stage's task to its lane's queue."""

from __future__ import annotations

import logging
import uuid

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dossier import lanes
from dossier.lanes import Lane
from dossier.models import Version
from ingest import lease
from ingest.models import Processing, Stage, State

log = logging.getLogger(__name__)


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
                reason_code="",
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


# Renditions are sent with the lowest priority: on Redis a worker takes every queue's tasks of a
# higher priority first, so an interactive burst's thumbnails wait until its texts are extracted
# (they would otherwise take turns with them on the `interactive` queue), and bulk renditions
# wait as they already do (the `render` queue is last in the main worker's order).
RENDER_PRIORITY = 9


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
    options = {"queue": target} if target else {}
    if stage == Stage.RENDER:
        options["priority"] = RENDER_PRIORITY
    try:
        # A retry goes back to the queue the task came from (Celery keeps its routing key).
        task.apply_async((version_id,), task_id=task_id, **options)
    except Exception:
        # The row stays pending with a task the broker does not hold: the sweeper sends it.
        log.exception("could not queue %s of version %s", stage, version_id)
