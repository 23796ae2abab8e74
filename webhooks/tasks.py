"""Celery tasks of webhooks: thin, idempotent, taking ids only."""

from __future__ import annotations

from celery import shared_task

from webhooks import attempts


@shared_task(name="webhooks.tasks.deliver_webhook", ignore_result=True)
def deliver_webhook(delivery_id: str) -> None:
    """Make the delivery's attempt if it is due, and come back for the next one.

    Not Celery's own retry: the delivery row holds the state, so a retry is just this task sent
    again with a countdown, and one lost on its way (a broker restart) is sent again by
    `requeue_due_deliveries`. Running twice is harmless: an attempt claims the row first.
    """
    outcome = attempts.attempt(delivery_id)
    if outcome.retry_in is not None:
        deliver_webhook.apply_async((delivery_id,), countdown=outcome.retry_in)


# Webhooks lived in `api/` until issue 13, their task named `api.tasks.deliver_webhook`. An
# installation upgraded while deliveries wait in its broker (a retry's countdown runs up to an
# hour) still holds messages under that name, which its workers must run, not drop. The alias
# can go one release after issue 13: by then every such message has run (its next attempt is
# sent under the new name), and one that was lost is sent again by `edms sweep` under the new name.
@shared_task(name="api.tasks.deliver_webhook", ignore_result=True)
def deliver_webhook_queued_under_its_old_name(delivery_id: str) -> None:
    deliver_webhook(delivery_id)
