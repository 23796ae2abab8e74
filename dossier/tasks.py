"""Celery tasks of the domain: thin, idempotent, taking ids only."""

from __future__ import annotations

import logging

from celery import shared_task

from dossier.events import claim_events, subscribers
from dossier.models import Event

log = logging.getLogger(__name__)


@shared_task(name="dossier.tasks.dispatch_events", ignore_result=True)
def dispatch_events() -> int:
    """Hand every event not yet seen by a subscriber to it (one task per event)."""
    handed = 0
    for name in subscribers():
        while ids := claim_events(name):
            for event_id in ids:
                handle_event.delay(name, event_id)
            handed += len(ids)
    return handed


@shared_task(
    name="dossier.tasks.handle_event",
    ignore_result=True,
    autoretry_for=(OSError, ConnectionError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=8,
)
def handle_event(subscriber: str, event_id: int) -> None:
    event = Event.objects.filter(pk=event_id).first()
    handler = subscribers().get(subscriber)
    if event is None or handler is None:
        return  # the event or the subscription is gone: nothing to do
    handler(event)
