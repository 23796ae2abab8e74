"""Webhooks: which receivers hear of which domain events, and the operations on webhooks.

`queue_deliveries` subscribes to the outbox (`EDMS_EVENT_SUBSCRIBERS`): for each event it makes
one delivery per active webhook that wants the event and whose owner may learn of it (the rule
of the change feed, `access.visible_events`), and queues its task after commit. Delivery rows
are unique per (webhook, event), so an event handed over twice is delivered once. What an
attempt does is `api.webhook_delivery`; a delivery whose task was lost is sent again by
`requeue_due_deliveries`. The contract with receivers is at-least-once: they dedupe by cursor.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.tasks import deliver_webhook
from api.webhook_models import (
    OPEN_STATES,
    PING,
    DeliveryState,
    Webhook,
    WebhookDelivery,
    new_secret,
)
from api.webhook_targets import host_problem
from dossier import access
from dossier.audit import Actor, record_audit
from dossier.models import Event

log = logging.getLogger(__name__)

SUBSCRIBER = "api.webhooks.queue_deliveries"  # its name in EDMS_EVENT_SUBSCRIBERS
EDITABLE_FIELDS = ("url", "kinds", "dossier_prefix", "description", "active")


class DeliveryInProgress(Exception):
    """The delivery is being sent right now; it cannot be sent again until that ends."""


# --- Settings of a webhook -----------------------------------------------------------------


def url_problem(url: str) -> str:
    """Why `url` cannot receive webhooks; empty if it can."""
    if not url or any(char.isspace() for char in url):
        return "the URL is empty or contains spaces"
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        return "the URL must start with https:// (or http://)"
    if parts.username is not None or parts.password is not None:
        return "the URL must not hold credentials: receivers verify X-Edms-Signature instead"
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "the URL's port is not a number from 0 to 65535"
    if not parts.hostname:
        return "the URL names no host"
    # Names are checked again, resolved, at every delivery (api.webhook_targets).
    return host_problem(parts.hostname)


def normalise_prefix(raw: str) -> str:
    """A dossier prefix in the form of stored keys (`bg / p/` → `BG/P/`)."""
    text = unicodedata.normalize("NFC", raw.strip())
    return re.sub(r"\s*/\s*", "/", text).upper()


def outbox_head() -> int:
    """The last event recorded so far: a webhook created now hears of the ones after it."""
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def create_webhook(
    *,
    owner,
    url: str,
    actor: Actor,
    api_key=None,
    kinds: list[str] | None = None,
    dossier_prefix: str = "",
    description: str = "",
    active: bool = True,
) -> Webhook:
    """A new active webhook hearing of events from now on; its secret is on the returned row."""
    with transaction.atomic():
        webhook = Webhook.objects.create(
            owner=owner,
            api_key=api_key,
            url=url,
            kinds=kinds or [],
            dossier_prefix=normalise_prefix(dossier_prefix),
            description=description,
            active=active,
            after_event_id=outbox_head(),
        )
        audit_created(webhook, actor)
    return webhook


def update_webhook(
    webhook: Webhook, changes: dict, *, actor: Actor, rotate_secret: bool = False
) -> Webhook:
    """Change the fields of `EDITABLE_FIELDS` in `changes`; `rotate_secret` draws a new one
    (deliveries already queued are signed with it too)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
        for field, value in changes.items():
            setattr(webhook, field, normalise_prefix(value) if field == "dossier_prefix" else value)
        if rotate_secret:
            webhook.secret = new_secret()
        webhook.save()
        now_set = _settings_of(webhook)
        detail = {"changed": {field: now_set[field] for field in changes}}
        _audit(actor, "webhook.update", webhook, detail | {"secret_rotated": rotate_secret})
    return webhook


def delete_webhook(webhook: Webhook, *, actor: Actor) -> None:
    """Delete the webhook and its deliveries (a queued attempt then finds nothing to do)."""
    with transaction.atomic():
        _audit(actor, "webhook.delete", webhook, _settings_of(webhook))
        webhook.delete()


def _settings_of(webhook: Webhook) -> dict:
    return {
        "url": webhook.url,
        "kinds": webhook.kinds,
        "dossier_prefix": webhook.dossier_prefix,
        "description": webhook.description,
        "active": webhook.active,
    }


def audit_created(webhook: Webhook, actor: Actor) -> None:
    """For a webhook created elsewhere than `create_webhook` (the admin's form)."""
    _audit(actor, "webhook.create", webhook, _settings_of(webhook))


def _audit(actor: Actor, action: str, webhook: Webhook, detail: dict) -> None:
    record_audit(actor, action, object_type="webhook", object_id=str(webhook.pk), detail=detail)


# --- Deliveries ----------------------------------------------------------------------------


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
