"""One attempt at a webhook delivery: the signed POST, and what the receiver's answer means.

`attempt(delivery_id)` is what the `deliver_webhook` task runs; a test can call it directly to
drive attempts one by one, passing `now` for the clock. Each attempt first claims the delivery
with a conditional UPDATE, so a duplicate task (a message redelivered by the broker, a requeue
by the sweeper) never sends it twice at once and a task that comes early does nothing.

A receiver's answer decides: 2xx delivered; 408, 429, 5xx, a timeout or a connection error are
transient (retried with exponential backoff and jitter, then given up); any other answer (4xx,
a redirect, which is never followed) is permanent and recorded with its reason. Only the status
code of an answer is kept, never its body or headers: the delivery log must not become a way to
read what a URL answers (see `webhooks.targets` for where edms may send at all).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import random
from dataclasses import dataclass

import urllib3
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from dossier import access
from dossier.feed import feed_item
from metrics.instruments import WEBHOOK_DELIVERIES
from webhooks.models import OPEN_STATES, PING, DeliveryState, Webhook, WebhookDelivery
from webhooks.targets import CheckedPoolManager, TargetRefused

log = logging.getLogger(__name__)

TIMEOUT = urllib3.Timeout(connect=5.0, read=10.0)
# An attempt still `sending` this long after it began died with its worker (the timeouts above
# bound a live one well below this); the delivery may then be claimed again.
LEASE = dt.timedelta(seconds=60)
FIRST_RETRY = 30.0  # seconds after the first failed attempt, doubling each time
LONGEST_RETRY = 3600.0
# First attempts go out in event order: a delivery waits (briefly, again and again) while an
# earlier event's delivery to the same webhook is being sent or not yet tried — but only for a
# delivery created this recently, so one stuck delivery never holds the others back for long.
ORDER_WAIT = dt.timedelta(seconds=60)
ORDER_RETRY = 2.0
TRANSIENT_CLIENT_ERRORS = (408, 429)

_pool: CheckedPoolManager | None = None


def _http() -> CheckedPoolManager:
    # One pool per process (created after Celery forks): connections to a receiver are reused.
    # Each new connection resolves the host and goes only to an address that is let through.
    global _pool
    if _pool is None:
        _pool = CheckedPoolManager(num_pools=20, retries=False, timeout=TIMEOUT)
    return _pool


@dataclass(frozen=True)
class Attempt:
    """What an attempt did: the delivery's state after it (None: nothing was sent), and in how
    many seconds its task should run again (None: no need)."""

    state: str | None = None
    retry_in: float | None = None


NOTHING = Attempt()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Edms-Signature` value: HMAC-SHA256, keyed with the secret, of `<timestamp>.<body>`.

    The timestamp is part of what is signed so that a captured request cannot be replayed
    later: receivers reject a timestamp more than a few minutes off their clock.
    """
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def body_of(delivery: WebhookDelivery) -> bytes:
    """The JSON sent: the event exactly as the change feed shows it to the webhook's acting
    user, or a ping."""
    # Imported here: every worker imports this module (webhooks.tasks), and Django REST
    # framework with what it imports (see api.apps) costs ~13 MiB in a worker that never
    # delivers a webhook; a worker that does loads it then.
    from rest_framework.fields import DateTimeField
    from rest_framework.renderers import JSONRenderer

    if delivery.event is not None:
        reader = delivery.webhook.acting_user()
        return JSONRenderer().render(feed_item(delivery.event, reader))
    ping = {
        "kind": PING,
        "at": DateTimeField().to_representation(delivery.created_at),
        "webhook": delivery.webhook_id,
    }
    return JSONRenderer().render(ping)


def retry_delay(attempts: int) -> float:
    """Seconds to wait after `attempts` failed attempts: 30 s doubling up to an hour, ±20 %
    so that deliveries failed together do not all come back at the same second."""
    base = min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)
    return base * random.uniform(0.8, 1.2)


def attempt(delivery_id, *, now: dt.datetime | None = None) -> Attempt:
    """Make the delivery's next attempt if it is due; record the outcome on it."""
    now = now or timezone.now()
    delivery = (
        WebhookDelivery.objects.select_related("webhook__owner", "webhook__api_key", "event")
        .filter(pk=delivery_id, state__in=OPEN_STATES, next_attempt_at__lte=now)
        .first()
    )
    if delivery is None:
        return NOTHING  # gone, settled, or not due: the task that is due will come
    if _waits_for_earlier(delivery, now):
        WebhookDelivery.objects.filter(
            pk=delivery.pk, state=DeliveryState.PENDING, next_attempt_at=delivery.next_attempt_at
        ).update(next_attempt_at=now + dt.timedelta(seconds=ORDER_RETRY))
        return Attempt(retry_in=ORDER_RETRY)
    if reason := _may_not_send(delivery):
        _settle(delivery, DeliveryState.FAILED, None, reason, now)
        return Attempt(DeliveryState.FAILED)

    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, state=delivery.state, next_attempt_at=delivery.next_attempt_at
    ).update(
        state=DeliveryState.SENDING,
        attempts=F("attempts") + 1,
        last_attempt_at=now,
        next_attempt_at=now + LEASE,
    )
    if not claimed:
        return NOTHING  # another task took it
    delivery.attempts += 1
    delivery.state = DeliveryState.SENDING
    try:
        status, error, retry_after = _post(delivery, now)
    except TargetRefused as exc:
        _settle(delivery, DeliveryState.FAILED, None, f"refused: {exc}"[:500], now)
        return Attempt(DeliveryState.FAILED)
    return _record(delivery, status, error, retry_after, now)


def _waits_for_earlier(delivery: WebhookDelivery, now: dt.datetime) -> bool:
    if delivery.event_id is None:
        return False  # a ping has no place in the order
    earlier_in_flight = Q(state=DeliveryState.SENDING) | Q(state=DeliveryState.PENDING, attempts=0)
    return (
        WebhookDelivery.objects.filter(
            earlier_in_flight,
            webhook_id=delivery.webhook_id,
            event_id__lt=delivery.event_id,
            created_at__gte=now - ORDER_WAIT,
        )
        .exclude(pk=delivery.pk)
        .exists()
    )


def _may_not_send(delivery: WebhookDelivery) -> str:
    """Why the delivery may not be sent now (empty: it may). Judged at every attempt: an owner
    who lost the right to read the event since it happened does not learn of it on a retry."""
    webhook: Webhook = delivery.webhook
    if not webhook.active:
        return "the webhook is deactivated"
    user = webhook.acting_user()
    if user is None:
        return "the webhook's user is deactivated or its API key revoked"
    if not access.can_read_event_feed(user):
        return "the webhook's owner may not read the event feed"
    if delivery.event_id is not None:
        if not access.visible_events(user).filter(pk=delivery.event_id).exists():
            return "the webhook's owner may not learn of this event"
    return ""


def _post(delivery: WebhookDelivery, now: dt.datetime) -> tuple[int | None, str, float | None]:
    """POST the delivery; (status code or None, error text, Retry-After seconds or None).
    Raises `TargetRefused` when the URL's host resolves to an address edms may not send to."""
    body = body_of(delivery)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "edms-webhooks/1",
        "X-Edms-Event": delivery.kind,
        "X-Edms-Delivery": str(delivery.id),
        "X-Edms-Attempt": str(delivery.attempts),
        "X-Edms-Timestamp": str(timestamp),
        "X-Edms-Signature": sign(delivery.webhook.secret, timestamp, body),
    }
    try:
        response = _http().request(
            "POST",
            delivery.webhook.url,
            body=body,
            headers=headers,
            redirect=False,
            preload_content=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        return None, _describe(exc), None
    response.close()  # unread: what the receiver says is never kept, only its status
    status = response.status
    if 200 <= status < 300:
        return status, "", None
    if 300 <= status < 400:
        return status, f"HTTP {status}: redirects are not followed", None
    return status, f"HTTP {status}", _retry_after(response, status)


def _describe(exc: Exception) -> str:
    # NewConnectionError (refused, unknown host) subclasses ConnectTimeoutError: test it first.
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return f"cannot connect: {exc}"[:500]
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return f"timed out: {exc}"[:500]
    if isinstance(exc, urllib3.exceptions.SSLError):
        return f"TLS failed: {exc}"[:500]
    # Not the exception's text: a ProtocolError quotes the start of what the other end sent
    # (`BadStatusLine('SSH-2.0-…')`), and the log never keeps what a receiver answers.
    return f"{type(exc).__name__}: the answer is not HTTP, or the connection broke"


def _retry_after(response, status: int) -> float | None:
    raw = response.headers.get("Retry-After", "")
    if status not in (429, 503) or not raw.strip().isdigit():
        return None
    return float(raw.strip())


def _record(
    delivery: WebhookDelivery,
    status: int | None,
    error: str,
    retry_after: float | None,
    now: dt.datetime,
) -> Attempt:
    if status is not None and 200 <= status < 300:
        _settle(delivery, DeliveryState.DELIVERED, status, "", now)
        return Attempt(DeliveryState.DELIVERED)
    transient = status is None or status >= 500 or status in TRANSIENT_CLIENT_ERRORS
    if not transient:
        _settle(delivery, DeliveryState.FAILED, status, error, now)
        return Attempt(DeliveryState.FAILED)
    if delivery.attempts >= settings.EDMS_WEBHOOK_MAX_ATTEMPTS:
        _settle(delivery, DeliveryState.GAVE_UP, status, error, now)
        return Attempt(DeliveryState.GAVE_UP)
    delay = max(retry_delay(delivery.attempts), min(retry_after or 0.0, LONGEST_RETRY))
    _settle(delivery, DeliveryState.PENDING, status, error, now, retry_in=delay)
    return Attempt(DeliveryState.PENDING, retry_in=delay)


def _settle(
    delivery: WebhookDelivery,
    state: str,
    status: int | None,
    error: str,
    now: dt.datetime,
    *,
    retry_in: float | None = None,
) -> None:
    # Conditional on the delivery being as this attempt left it: if someone redelivered it
    # meanwhile, their state stands.
    WebhookDelivery.objects.filter(
        pk=delivery.pk, state=delivery.state, attempts=delivery.attempts
    ).update(
        state=state,
        last_status_code=status,
        last_error=error,
        next_attempt_at=None if retry_in is None else now + dt.timedelta(seconds=retry_in),
        delivered_at=now if state == DeliveryState.DELIVERED else None,
    )
    WEBHOOK_DELIVERIES.labels(state=str(state)).inc()
    if state in (DeliveryState.FAILED, DeliveryState.GAVE_UP):
        log.warning("webhook delivery %s %s: %s", delivery.pk, state, error)
