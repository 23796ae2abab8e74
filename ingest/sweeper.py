"""Queue again the work whose task was lost.

Every stage of the pipeline and the split of a scan batch is idempotent (claimed with a
conditional update), so sending a task twice is harmless while never sending it leaves a version
`pending` — or a batch `queued` — for good: the broker was restarted without its messages, the
`queue()` call failed, or a worker died after acknowledging — and a version whose "new content"
event was lost on its way to the ingest subscriber never gets a processing row at all. `sweep()`
dispatches what the event outbox still holds, then finds such work and sends its task again.
`edms sweep` runs it: periodically under `edms run`, from a systemd timer in production. It also
removes spool files that killed uploads left behind (`blobstore.sweep_stale`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from dossier import blobstore
from dossier.models import DocumentState, Version
from dossier.tasks import dispatch_events
from ingest import pipeline
from ingest.batch_models import BatchState, ScanBatch
from ingest.models import Processing, Stage, State
from ingest.scanning import splitting, thumbnails

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepReport:
    events: int  # events still in the outbox, handed to their subscribers
    versions: int  # versions whose processing was requested or whose stage task was sent again
    batches: int  # scan batches whose split task was sent again
    others: dict[str, int] = field(default_factory=dict)  # what EDMS_SWEEP_HOOKS sent again

    @property
    def anything(self) -> bool:
        return bool(self.events or self.versions or self.batches or any(self.others.values()))

    def __str__(self) -> str:
        others = "".join(f", {count} {name}" for name, count in self.others.items())
        return (
            f"{self.events} events dispatched, {self.versions} versions and "
            f"{self.batches} scan batches{others} queued again"
        )


def requeue_after() -> dt.timedelta:
    return dt.timedelta(seconds=settings.EDMS_REQUEUE_AFTER)


def unprocessed_versions(now: dt.datetime | None = None):
    """Versions of active documents committed a while ago that never got a processing row (the
    event handed to the ingest subscriber was lost with its task). A scan held for quality
    control is processed once approved, not before."""
    now = now or timezone.now()
    return Version.objects.filter(
        processing__isnull=True,
        document__state=DocumentState.ACTIVE,
        created_at__lt=now - requeue_after(),
    )


def stalled_versions(now: dt.datetime | None = None):
    """Processing rows waiting for a task that may never come: pending longer than
    `requeue_after()`, or running in a worker that has been silent past the stage's limit."""
    now = now or timezone.now()
    waiting = Q(state=State.PENDING, queued_at__lt=now - requeue_after())
    dead = Q()
    for stage in Stage:
        silent_since = now - pipeline.stale_after(stage)
        dead |= Q(state=State.RUNNING, stage=stage, started_at__lt=silent_since)
    return Processing.objects.filter(waiting | dead)


def stalled_batches(now: dt.datetime | None = None):
    now = now or timezone.now()
    waiting = Q(state=BatchState.QUEUED, queued_at__lt=now - requeue_after())
    dead = Q(state=BatchState.SPLITTING, started_at__lt=now - splitting.STALE_SPLIT)
    return ScanBatch.objects.filter(waiting | dead)


def sweep(*, dry_run: bool = False) -> SweepReport:
    now = timezone.now()
    if dry_run:
        return SweepReport(
            0,
            unprocessed_versions(now).count() + stalled_versions(now).count(),
            stalled_batches(now).count(),
        )
    events = dispatch_events()  # what the outbox holds because a dispatch task was lost
    unprocessed = list(unprocessed_versions(now))
    for version in unprocessed:
        pipeline.request_processing(version)
    versions = list(stalled_versions(now).values_list("pk", "version_id", "stage"))
    batches = list(stalled_batches(now).values_list("id", flat=True))
    for pk, version_id, stage in versions:
        # Stamped first, so the next sweep waits a full period before sending it once more.
        Processing.objects.filter(pk=pk).update(queued_at=now)
        pipeline.queue(version_id, stage)
    for batch_id in batches:
        ScanBatch.objects.filter(id=batch_id).update(queued_at=now)
        splitting.queue_split(batch_id)
    others = {name: import_string(path)() for name, path in settings.EDMS_SWEEP_HOOKS.items()}
    thumbnails.prune()  # housekeeping that fits the same schedule
    if leftovers := blobstore.sweep_stale():
        log.warning("sweep: removed %d spool/staging leftovers of killed processes", leftovers)
    report = SweepReport(events, len(unprocessed) + len(versions), len(batches), others)
    if report.anything:
        log.warning("sweep: %s", report)
    return report
