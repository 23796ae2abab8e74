"""Scan batches whose split task was lost, found and sent again by `edms sweep`.

The sweeper (`ingest.sweeper`) calls `sweep_batches` as one of its batch sweepers (registered by
`ScanningConfig.ready`): a batch is sent again by the same rules as a version — queued while the
broker no longer holds its task, or splitting in a worker silent past `splitting.STALE_SPLIT`.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from ingest.broker_tasks import task_ids_in_broker
from ingest.sweeper import waiting_in_vain
from scanning import splitting, thumbnails
from scanning.models import BatchState, ScanBatch


def stalled_batches(
    now: dt.datetime | None = None, *, in_broker=task_ids_in_broker
) -> QuerySet[ScanBatch]:
    """Scan batches queued for a split task that is gone (as for versions), or splitting in a
    worker silent past `splitting.STALE_SPLIT`."""
    now = now or timezone.now()
    queued = ScanBatch.objects.filter(state=BatchState.QUEUED)
    dead = Q(state=BatchState.SPLITTING, started_at__lt=now - splitting.STALE_SPLIT)
    return ScanBatch.objects.filter(dead | waiting_in_vain(queued, now, in_broker))


def sweep_batches(now: dt.datetime, *, dry_run: bool) -> int:
    """Send the stalled batches' split task again (or, `dry_run`, count them); returns how many."""
    if dry_run:
        return stalled_batches(now).count()
    batches = list(stalled_batches(now).values_list("id", flat=True))
    for batch_id in batches:
        ScanBatch.objects.filter(id=batch_id).update(queued_at=now)
        splitting.queue_split(batch_id)
    thumbnails.prune()  # housekeeping that fits the same schedule
    return len(batches)
