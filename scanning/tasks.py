"""Celery tasks of digitization: thin, taking ids only, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from scanning import splitting


@shared_task(name=splitting.SPLIT_TASK, ignore_result=True, acks_late=True)
def split_scan_batch(batch_id: str) -> None:
    """Split a scan batch (queue `scan`); idempotent, so a redelivery is harmless."""
    splitting.split_batch(batch_id)


# The task's name before scanning became an app of its own (it was in `ingest.tasks`). A batch
# queued under that name by the release before, still in the broker when an installation is
# upgraded, must still be split. It can go once no installation upgrades from a release that
# sent it (and a message lost with it is sent again, under the new name, by `edms sweep`).
@shared_task(name="ingest.tasks.split_scan_batch", ignore_result=True, acks_late=True)
def split_scan_batch_queued_under_old_name(batch_id: str) -> None:
    splitting.split_batch(batch_id)
