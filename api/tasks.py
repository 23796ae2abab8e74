"""Celery tasks of the API side: thin, idempotent, taking ids only."""

from __future__ import annotations

from celery import shared_task

from api import webhook_delivery


@shared_task(name="api.tasks.deliver_webhook", ignore_result=True)
def deliver_webhook(delivery_id: str) -> None:
    """Make the delivery's attempt if it is due, and come back for the next one.

    Not Celery's own retry: the delivery row holds the state, so a retry is just this task sent
    again with a countdown, and one lost on its way (a broker restart) is sent again by
    `requeue_due_deliveries`. Running twice is harmless: an attempt claims the row first.
    """
    outcome = webhook_delivery.attempt(delivery_id)
    if outcome.retry_in is not None:
        deliver_webhook.apply_async((delivery_id,), countdown=outcome.retry_in)
