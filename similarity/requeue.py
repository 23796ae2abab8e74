"""Sending embedding tasks, and sending again those that were lost (a broker restarted without
its messages, a worker killed after it took one): the sweep's "embeddings" hook.

Each send is stamped (`EmbeddingQueued`) in the transaction that decides it, so the sweep can
tell a document whose task still waits in the `similarity` queue (consumed last, it may lag
behind a bulk import) from one whose task is gone: it sends again only for documents that still
wait `EDMS_REQUEUE_AFTER` after their last send, oldest first, a bounded number per sweep.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from similarity import embedding, vectorstores
from similarity.models import EmbeddingQueued
from similarity.tasks import catch_up_index, embed_document

log = logging.getLogger(__name__)

# The sweep sends at most this many at once (every EDMS_SWEEP_INTERVAL); the backfill command
# does any number.
SWEEP_BATCH = 200


def stamp(document_ids: Iterable[str], now: dt.datetime | None = None) -> None:
    """Record that the documents' tasks are being sent now."""
    now = now or timezone.now()
    EmbeddingQueued.objects.bulk_create(
        [EmbeddingQueued(document_id=d, queued_at=now) for d in document_ids],
        update_conflicts=True,
        unique_fields=["document_id"],
        update_fields=["queued_at"],
    )


def send(document_ids: list[str]) -> None:
    """Queue the documents' embedding tasks; never raises (the sweep sends what failed)."""
    try:
        for document_id in document_ids:
            embed_document.delay(document_id)
    except Exception:
        log.exception("could not queue embeddings; the sweep sends them again")


def lost(now: dt.datetime | None = None) -> list[str]:
    """Documents that wait for embeddings and whose task was last sent (if ever) longer than
    `EDMS_REQUEUE_AFTER` ago, oldest first, at most `SWEEP_BATCH`."""
    now = now or timezone.now()
    recent = EmbeddingQueued.objects.filter(
        document_id=OuterRef("document_id"),
        queued_at__gt=now - dt.timedelta(seconds=settings.EDMS_REQUEUE_AFTER),
    )
    ids = list(
        embedding.waiting()
        .exclude(Exists(recent))
        .values_list("document_id", flat=True)[:SWEEP_BATCH]
    )
    if len(ids) < SWEEP_BATCH:
        ids += (
            embedding.leftovers()
            .exclude(Exists(recent))
            .values_list("document_id", flat=True)[: SWEEP_BATCH - len(ids)]
        )
    return [str(d) for d in ids]


def queue_lost_embeddings() -> int:
    """The sweep's requeue hook: send again the tasks of documents whose embedding was lost;
    returns how many."""
    now = timezone.now()
    ids = lost(now)
    if ids:
        stamp(ids, now)  # first: the next sweep waits a full period before sending once more
        send(ids)
    _catch_up_a_lagging_file()
    return len(ids)


def _catch_up_a_lagging_file() -> None:
    """A file behind the database longer than a save interval (its writer was killed before its
    save, and no task came since) is caught up by a task on the `similarity` queue."""
    if not vectorstores.uses_index_file():
        return
    from similarity import vectorindex  # usearch: only where the file is used (`tasks`)

    path = Path(settings.EDMS_SIMILARITY_DIR) / vectorindex.FILE_NAME
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        return  # none yet (or not on this host): the first reader or writer builds it
    if age < 2 * settings.EDMS_SIMILARITY_SAVE_INTERVAL:
        return  # written just now: a worker is at work and writes it again soon
    newer, removed = vectorindex.lag()
    if newer or removed:
        log.info("the similarity index file lags (%d new, %d removed chunks)", newer, removed)
        try:
            catch_up_index.delay()
        except Exception:
            log.exception("could not queue the similarity index's catch-up")
