"""Celery tasks of the domain: thin, idempotent, taking ids only."""

from __future__ import annotations

from celery import shared_task

from dossier import events, fixity


@shared_task(name="dossier.tasks.dispatch_events", ignore_result=True)
def dispatch_events() -> int:
    """Catch up: hand every event a subscriber has not seen yet to it, in batches (the same
    dispatch a commit runs inline; used by the sweeper and `edms dispatch`)."""
    return events.dispatch_events()


@shared_task(name="dossier.tasks.handle_event", ignore_result=True)
def handle_event(subscriber: str = "", event_id: int = 0) -> None:
    """Messages queued before events were dispatched in batches: dispatch whatever is due."""
    events.dispatch_events()


@shared_task(name="dossier.tasks.verify_new_content", ignore_result=True, acks_late=True)
def verify_new_content(sha256s: list[str]) -> None:
    """Read newly filed content back once (see `dossier.fixity.verify_new_content`)."""
    fixity.verify_blobs(sha256s)
