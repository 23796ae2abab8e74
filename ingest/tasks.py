"""Celery tasks of ingestion: thin, taking ids only, safe to run twice (queue `extract`)."""

from __future__ import annotations

from celery import shared_task

from ingest import pipeline


@shared_task(
    bind=True,
    name="ingest.tasks.process_version",
    ignore_result=True,
    # Idempotent (the run is claimed with a conditional UPDATE), so a task lost with its worker
    # may be redelivered.
    acks_late=True,
    autoretry_for=(pipeline.TransientFault,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def process_version(self, version_id: int) -> None:
    final = self.request.retries >= self.max_retries
    pipeline.process_version(version_id, final_attempt=final)


@shared_task(name="ingest.tasks.split_scan_batch", ignore_result=True, acks_late=True)
def split_scan_batch(batch_id: str) -> None:
    """Split a scan batch (queue `scan`); idempotent, so a redelivery is harmless."""
    from ingest.scanning.splitting import split_batch

    split_batch(batch_id)
