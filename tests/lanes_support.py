"""Seeing which queue work is sent to: pipeline tasks as Celery publishes them to the broker
(`before_task_publish`), with no worker and no mocking."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from celery.signals import before_task_publish

from dossier.models import Event
from ingest.subscribers import queue_processing

PIPELINE_TASKS = {
    "ingest.tasks.process_version",
    "ingest.tasks.ocr_version",
    "ingest.tasks.render_version",
}


@contextmanager
def published() -> Iterator[list[tuple[str, str]]]:
    """(task name, queue) of every pipeline task published inside the block."""
    sent: list[tuple[str, str]] = []

    def record(sender=None, routing_key=None, **kwargs):
        if sender in PIPELINE_TASKS:
            sent.append((sender, routing_key))

    before_task_publish.connect(record)
    try:
        yield sent
    finally:
        before_task_publish.disconnect(record)


def deliver(event: Event, capture_on_commit) -> list[tuple[str, str]]:
    """Hand `event` to ingestion's subscriber, as the dispatcher does, and return the pipeline
    tasks it sent once its transaction committed (`capture_on_commit`: pytest-django's
    `django_capture_on_commit_callbacks`)."""
    with published() as sent, capture_on_commit(execute=True):
        queue_processing([event])
    return sent
