"""The Celery task that moves DAS requests on: thin, idempotent, taking ids only."""

from __future__ import annotations

from celery import shared_task

from exchange.das import progress


@shared_task(name="exchange.das.tasks.advance_das_request", ignore_result=True)
def advance_das_request(request_id: str) -> None:
    """Take the request's next step if it is due, and come back when the next one is.

    As with webhook deliveries the row holds the state: a retry or a poll is this task sent
    again with a countdown, and one lost on its way is sent again by `edms sweep`
    (`requeue_das_requests`). Running twice is harmless: a step claims the row first.
    """
    retry_in = progress.advance(request_id)
    if retry_in is not None:
        advance_das_request.apply_async((request_id,), countdown=retry_in)


def requeue_das_requests() -> int:
    """`edms sweep`'s hook: send again the task of every open request that is due."""
    due = progress.requeue_due()
    for request_id in due:
        advance_das_request.delay(request_id)
    return len(due)
