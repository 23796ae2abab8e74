"""Making a notification: the row, once, and its e-mail queued after commit when one is owed."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from watch.models import Notification
from watch.tasks import email_notification

log = logging.getLogger(__name__)


def mail_configured() -> bool:
    """Notifications go by e-mail only when an SMTP server is named (EMAIL_HOST)."""
    return bool(settings.EMAIL_HOST)


def notify(user, *, unique: dict, **fields) -> Notification | None:
    """Tell `user` of something, once per `unique` (the constraint's fields); the new
    notification, or None if it was made already (a batch handed over twice)."""
    owed = mail_configured() and bool(user.email)
    with transaction.atomic():
        notification, new = Notification.objects.get_or_create(
            user=user, **unique, defaults=fields | {"email_pending": owed}
        )
        if new and owed:
            transaction.on_commit(lambda: queue_mail(notification.pk))
    return notification if new else None


def queue_mail(notification_id: int) -> None:
    # The row is the truth: a task that cannot be queued now is sent again by `edms sweep`.
    try:
        email_notification.delay(notification_id)
    except Exception:
        log.exception("could not queue the e-mail of notification %s", notification_id)


def requeue_unsent_mail(now: dt.datetime | None = None) -> int:
    """Queue again the e-mail of every notification still owed one `EDMS_REQUEUE_AFTER` after
    it was made (its task was lost, or the server refused it every time), up to a day old; a
    requeue hook of `edms sweep`. How many."""
    now = now or timezone.now()
    late = now - dt.timedelta(seconds=settings.EDMS_REQUEUE_AFTER)
    ids = list(
        Notification.objects.filter(
            email_pending=True, created_at__lt=late, created_at__gte=now - dt.timedelta(days=1)
        ).values_list("pk", flat=True)
    )
    for notification_id in ids:
        queue_mail(notification_id)
    return len(ids)
