"""Celery tasks of search: they run on the `index` queue, whose single consumer is the only
process that writes the index."""

from __future__ import annotations

import logging

from celery import shared_task

from search import indexer
from search.backends import IndexOutdated, SearchUnavailable, get_backend
from search.wakeups import claim_wakeup, forget_wakeup, wakeup_started

log = logging.getLogger(__name__)


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
    try:
        if get_backend().outdated():
            raise IndexOutdated
        return indexer.sync()
    except IndexOutdated:
        # An upgrade changed the index's fields: this consumer, the index's only writer, builds
        # a new generation (resumable if it is killed meanwhile) and carries on from there.
        rebuild_outdated_index()
        return indexer.sync()


def rebuild_outdated_index() -> None:
    log.warning("the search index was built by an earlier edms: rebuilding it")
    run = indexer.reindex(resume=True, progress=_log_progress)
    log.warning("search index rebuilt: %d documents in %s", run.indexed, run.generation)


def _log_progress(done: int, total: int) -> None:
    if done % 1000 < indexer.BATCH_SIZE or done == total:
        log.info("rebuilding the search index: %d of %d documents", done, total)


def queue_rebuild_of_outdated_index() -> int:
    """`edms sweep` hook: an index an upgrade left outdated (search answers 503 meanwhile) is
    rebuilt by the index queue's consumer, asked once (1) or not at all (0)."""
    try:
        if not get_backend().outdated():
            return 0
    except SearchUnavailable:
        return 0  # a cluster that cannot be asked now is asked at the next sweep
    stamp = claim_wakeup()
    if stamp is None:
        return 0  # a sync is queued already; it rebuilds
    try:
        sync_index.delay()
    except Exception:
        forget_wakeup(stamp)
        raise
    return 1


def queue_late_announcements() -> int:
    """`edms sweep` hook: an indexed-events subscriber behind the index (saved searches whose
    check failed, or whose process was killed before it ran) is handed its events again by a
    sync of the index queue's consumer, asked once (1) or not at all (0)."""
    if not indexer.announcements_behind():
        return 0
    stamp = claim_wakeup()
    if stamp is None:
        return 0  # a sync is queued already; it announces what is late first
    try:
        sync_index.delay()
    except Exception:
        forget_wakeup(stamp)
        raise
    return 1
