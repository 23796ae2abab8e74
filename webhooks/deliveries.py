"""Deliveries: which receivers hear of which domain events, and sending their tasks.

`queue_deliveries` subscribes to the outbox (`EDMS_EVENT_SUBSCRIBERS`): for each event it makes
one delivery per active webhook that wants the event and whose owner may learn of it (the rule
of the change feed, `access.visible_events`), and queues its task after commit. Delivery rows
are unique per (webhook, event), so an event handed over twice is delivered once. What an
attempt does is `webhooks.attempts`; a delivery whose task was lost is sent again by
`requeue_due_deliveries` (a requeue hook of `edms sweep`, registered by `webhooks.apps`). The
contract with receivers is at-least-once: they dedupe by cursor.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dossier import access
from dossier.models import Event
from webhooks.models import OPEN_STATES, PING, DeliveryState, Webhook, WebhookDelivery
from webhooks.tasks import deliver_webhook

log = logging.getLogger(__name__)

SUBSCRIBER = "webhooks.deliveries.queue_deliveries"  # its name in EDMS_EVENT_SUBSCRIBERS


class DeliveryInProgress(Exception):
    """The delivery is being sent right now; it cannot be sent again until that ends."""


def queue_deliveries(events: list[Event]) -> None:
    """Event subscriber: deliver each event to every webhook that wants it and may learn of it."""
    if not events:
        return
    webhooks = list(
        Webhook.objects.filter(active=True, after_event_id__lt=events[-1].id).select_related(
            "owner", "api_key"
        )
    )
    if not webhooks:
        return  # the common case: one query per batch
    with transaction.atomic():
        for event in events:
            for webhook in webhooks:
                if (
                    webhook.after_event_id < event.id
                    and webhook.wants(event.kind, event.dossier_key)
                    and _may_learn_of(webhook, event)
                ):
                    _make_delivery(webhook, event)


def _make_delivery(webhook: Webhook, event: Event) -> None:
    delivery, new = WebhookDelivery.objects.get_or_create(
        webhook=webhook,
        event=event,
        defaults={"kind": event.kind, "next_attempt_at": timezone.now()},
    )
    if new:
        _send_after_commit(delivery.pk)


def _may_learn_of(webhook: Webhook, event: Event) -> bool:
    user = webhook.acting_user()
    return user is not None and access.visible_events(user).filter(pk=event.pk).exists()


def ping(webhook: Webhook) -> WebhookDelivery:
    """Queue a `ping` delivery: tells whether the receiver answers and checks signatures."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            webhook=webhook, kind=PING, next_attempt_at=timezone.now()
        )
        _send_after_commit(delivery.pk)
    return delivery


def redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the delivery again now, with a fresh series of attempts, whatever became of it."""
    with transaction.atomic():
        reset = WebhookDelivery.objects.exclude(state=DeliveryState.SENDING).filter(pk=delivery.pk)
        if not reset.update(
            state=DeliveryState.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            delivered_at=None,
        ):
            raise DeliveryInProgress(f"delivery {delivery.pk} is being sent right now")
        _send_after_commit(delivery.pk)
    return WebhookDelivery.objects.get(pk=delivery.pk)


def requeue_due_deliveries(now: dt.datetime | None = None) -> int:
    """Send again the task of every delivery overdue by `EDMS_REQUEUE_AFTER` (its task was
    lost: a broker restart, a worker killed during an attempt); returns how many.

    Each is stamped due now, so the next call waits a full period before sending it again.
    Sending one twice is harmless: an attempt claims the delivery first.
    """
    now = now or timezone.now()
    overdue_before = now - dt.timedelta(seconds=settings.EDMS_REQUEUE_AFTER)
    overdue = WebhookDelivery.objects.filter(
        state__in=OPEN_STATES, next_attempt_at__lt=overdue_before
    )
    ids = list(overdue.values_list("pk", flat=True))
    # Still overdue when stamped (an attempt may have claimed one since). A delivery still
    # `sending` long after its lease ended died with its worker: it is pending again.
    overdue.filter(pk__in=ids).update(state=DeliveryState.PENDING, next_attempt_at=now)
    for delivery_id in ids:
        _send(delivery_id)
    if ids:
        log.warning("%d webhook deliveries queued again", len(ids))
    return len(ids)


def _send_after_commit(delivery_id) -> None:
    transaction.on_commit(lambda: _send(delivery_id))


def _send(delivery_id) -> None:
    # The row is the truth: a task that cannot be queued now is sent by the next requeue.
    try:
        deliver_webhook.delay(str(delivery_id))
    except Exception:
        log.exception("could not queue webhook delivery %s; it will be queued again", delivery_id)
