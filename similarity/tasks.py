"""Celery tasks of similarity: on the `similarity` queue, consumed after every queue that makes a
document searchable (EDMS_LOCAL_WORKERS), so embeddings never delay search."""

from __future__ import annotations

from celery import shared_task

from similarity import embedding


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
