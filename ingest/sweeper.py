"""Queue again the work whose task was lost.

Every stage of the pipeline and the split of a scan batch is idempotent (claimed with a
conditional update), so sending a task twice is harmless while never sending it leaves a version
`pending` — or a batch `queued` — for good: the broker was restarted without its messages, the
`queue()` call failed, or a worker died after acknowledging — and a version whose "new content"
event was lost on its way to the ingest subscriber never gets a processing row at all. `sweep()`
dispatches what the event outbox still holds, then finds such work and sends its task again.
`edms sweep` runs it: periodically under `edms run`, from a systemd timer in production. It also
removes spool files that killed uploads left behind (`blobstore.sweep_stale`), and runs the
requeue hooks other apps registered (`dossier.requeue_hooks`: webhook deliveries, renditions)
and their cleanup hooks (expired resumable uploads), and forgets the viewer's page images nobody
looked at for a month, or of expunged content (`page_images.prune`).

Work that only waits in line is left alone, however long the line: a pending version is sent
again only when the broker no longer holds the task it was queued with (`broker_tasks`; for a
broker that cannot be asked, when it waited longer than EDMS_REQUEUE_AFTER), and a running one
only when its runner stopped beating (`ingest.lease`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from dossier import blobstore
from dossier.models import DocumentState, Version
from dossier.requeue_hooks import cleanup_hooks, periodic_hooks, requeue_hooks
from dossier.tasks import dispatch_events
from ingest import lease, page_images, pipeline
from ingest.broker_tasks import task_ids_in_broker
from ingest.models import Processing, State

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepReport:
    events: int  # events still in the outbox, handed to their subscribers
    versions: int  # versions whose processing was requested or whose stage task was sent again
    batches: int  # scan batches whose split task was sent again (`BATCH_SWEEPERS`)
    others: dict[str, int] = field(default_factory=dict)  # what the requeue hooks sent again
    removed: dict[str, int] = field(default_factory=dict)  # what the cleanup hooks removed
    done: dict[str, int] = field(default_factory=dict)  # what the periodic hooks did

    @property
    def anything(self) -> bool:
        return bool(
            self.events
            or self.versions
            or self.batches
            or any(self.others.values())
            or any(self.removed.values())
            or any(self.done.values())
        )

    def __str__(self) -> str:
        others = "".join(f", {count} {name}" for name, count in self.others.items())
        removed = "".join(f"; {count} {name} removed" for name, count in self.removed.items())
        done = "".join(f"; {count} {name}" for name, count in self.done.items())
        return (
            f"{self.events} events dispatched, {self.versions} versions and "
            f"{self.batches} scan batches{others} queued again{removed}{done}"
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


def stalled_versions(now: dt.datetime | None = None, *, in_broker=task_ids_in_broker):
    """Processing rows waiting for a task that will never come: pending while the broker holds
    no task of theirs (or, when it cannot tell, longer than `requeue_after()`), or running in a
    runner whose heartbeat stopped (`lease.expired`). `in_broker(task_ids)` says which of the
    ids the broker holds, or None when it cannot tell."""
    now = now or timezone.now()
    pending = Processing.objects.filter(state=State.PENDING)
    return Processing.objects.filter(lease.expired(now) | waiting_in_vain(pending, now, in_broker))


# Scan batches are digitization's (`scanning`, an app above this one): it adds here, from its
# AppConfig.ready, the function that counts (`dry_run`) or sends again the batches whose split
# task was lost, returning how many, so the sweeper covers them without importing it.
BatchSweeper = Callable[..., int]  # (now, *, dry_run) -> count
BATCH_SWEEPERS: list[BatchSweeper] = []


def register_batch_sweeper(sweeper: BatchSweeper) -> None:
    if sweeper not in BATCH_SWEEPERS:
        BATCH_SWEEPERS.append(sweeper)


def _sweep_batches(now: dt.datetime, *, dry_run: bool) -> int:
    return sum(sweeper(now, dry_run=dry_run) for sweeper in BATCH_SWEEPERS)


def waiting_in_vain(waiting, now: dt.datetime, in_broker) -> Q:
    """Which of the `waiting` rows (with `task_id` and `queued_at`) wait for a lost task."""
    waited_long = Q(pk__in=waiting.filter(queued_at__lt=now - requeue_after()).values("pk"))
    # `queue()` records the task's id before sending it: a row still without one a lease after
    # it was queued never got its task (the process that committed it died before sending).
    never_sent = Q(task_id="", queued_at__lt=now - lease.LEASE)
    # A task sent within the lease may be between its row's update and the broker.
    sent = list(
        waiting.filter(queued_at__lt=now - lease.LEASE)
        .exclude(task_id="")
        .values_list("pk", "task_id")
    )
    held = in_broker(task_id for _, task_id in sent) if sent else None
    if held is None:
        return waited_long | never_sent
    gone = [pk for pk, task_id in sent if task_id not in held]
    return Q(pk__in=gone) | never_sent


def sweep(*, dry_run: bool = False) -> SweepReport:
    now = timezone.now()
    if dry_run:
        return SweepReport(
            0,
            unprocessed_versions(now).count() + stalled_versions(now).count(),
            _sweep_batches(now, dry_run=True),
        )
    events = dispatch_events()  # what the outbox holds because a dispatch task was lost
    unprocessed = list(unprocessed_versions(now))
    for version in unprocessed:
        pipeline.request_processing(version)
    versions = list(stalled_versions(now).values_list("pk", "version_id", "stage"))
    for pk, version_id, stage in versions:
        # Stamped first, so the next sweep gives the new task time to arrive; queue() records
        # its id on a pending row, and a dead runner's row is taken over by its claim().
        Processing.objects.filter(pk=pk).update(queued_at=now)
        pipeline.queue(version_id, stage)
    batches = _sweep_batches(now, dry_run=False)
    others = {name: hook() for name, hook in requeue_hooks().items()}  # other apps' lost work
    removed = {name: hook() for name, hook in cleanup_hooks().items()}  # what other apps let expire
    done = {name: hook() for name, hook in periodic_hooks().items()}  # what is due (checkpoints)
    if leftovers := blobstore.sweep_stale():
        log.warning("sweep: removed %d spool/staging leftovers of killed processes", leftovers)
    page_images.prune()  # the viewer's page images nobody looked at lately, or expunged
    report = SweepReport(events, len(unprocessed) + len(versions), batches, others, removed, done)
    if report.anything:
        log.warning("sweep: %s", report)
    return report


def resume_interrupted(host: str) -> int:
    """Queue again what an earlier incarnation of worker `host` was running (called as the
    worker gets ready, so an interrupted version resumes at once); returns how many."""
    resumed = 0
    for row in lease.interrupted_by_earlier_incarnation(host):
        released = Processing.objects.filter(
            pk=row.pk, state=State.RUNNING, runner_host=host, runner_pid=row.runner_pid
        ).update(state=State.PENDING, started_at=None, heartbeat_at=None)
        if released:
            pipeline.queue(row.version_id, row.stage)
            resumed += 1
    if resumed:
        log.warning("worker %s: queued again %d interrupted version(s)", host, resumed)
    return resumed
