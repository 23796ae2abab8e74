"""Celery tasks of similarity: on the `similarity` queue, consumed after every queue that makes a
document searchable (EDMS_LOCAL_WORKERS), so embeddings never delay search."""

from __future__ import annotations

import logging
import sys

from celery import shared_task
from celery.signals import worker_process_shutdown, worker_shutdown

from dossier.models import Document
from similarity import embedding, vectorstores

log = logging.getLogger(__name__)


@shared_task(
    name="similarity.tasks.embed_document",
    ignore_result=True,
    autoretry_for=(OSError,),  # the index file's folder briefly unavailable
    retry_backoff=True,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def embed_document(document_id: str) -> int:
    return embedding.embed_document(document_id).chunks


@shared_task(
    name="similarity.tasks.refresh_vector_readers",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def refresh_vector_readers(document_ids: list[str], dossier_keys: list[str]) -> int:
    """Rewrite the readers the vector store keeps for these documents and every document of
    these dossiers (`similarity.vector_subscribers`); how many documents that was."""
    ids = set(document_ids)
    ids |= {
        str(i)
        for i in Document.objects.filter(dossier__key__in=dossier_keys).values_list("id", flat=True)
    }
    vectorstores.configured().refresh_readers(sorted(ids))
    return len(ids)


@shared_task(name="similarity.tasks.catch_up_index", ignore_result=True)
def catch_up_index() -> int:
    """Bring the index file in line with the database (queued by the sweep when the file lags:
    a writer was killed between its commit and its save)."""
    from similarity import vectorindex  # usearch: only where the file is used (see below)

    return vectorindex.catch_up_file()


@worker_process_shutdown.connect
@worker_shutdown.connect
def _save_index_on_shutdown(**kwargs) -> None:
    """A worker process stopping writes what it holds unsaved (a killed one cannot: the next
    writer, or the sweep's catch-up, takes its chunks over from the database)."""
    vectorindex = sys.modules.get("similarity.vectorindex")
    if vectorindex is None:
        return  # this process never held the index: nothing unsaved
    try:
        vectorindex.flush()
    except Exception:
        log.exception("could not save the similarity index at shutdown")
