"""Celery tasks of search: they run on the `index` queue, whose single consumer is the only
process that writes the index."""

from __future__ import annotations

from celery import shared_task

from search import indexer
from search.backends import SearchUnavailable
from search.wakeups import wakeup_started


@shared_task(
    name="search.tasks.sync_index",
    ignore_result=True,
    # The engine may be briefly locked or unreachable; nothing is lost meanwhile (the cursor
    # moves only after a batch is written).
    autoretry_for=(SearchUnavailable, ConnectionError, OSError),
    retry_backoff=True,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=10,
)
def sync_index() -> int:
    wakeup_started()  # before reading the outbox, so no event falls between the two
    return indexer.sync()
