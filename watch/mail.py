"""Sending a notification by e-mail (Django's mail, EMAIL_* settings), once."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from watch.inbox import notifications_for
from watch.models import Notification
from watch.wording import headline, link


def send_notification_mail(notification_id: int) -> bool:
    """Send the notification's e-mail if it is still owed; whether one was sent.

    The row is claimed before sending, so two tasks for one notification send one e-mail; a
    send that fails gives the claim back and raises (the task retries)."""
    claimed = Notification.objects.filter(pk=notification_id, email_pending=True).update(
        email_pending=False, emailed_at=timezone.now()
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("user", "saved_search").get(
        pk=notification_id
    )
    user = notification.user
    if not user.email or not user.is_active:
        return False
    if not notifications_for(user).filter(pk=notification_id).exists():
        return False  # hidden from them since it was made (see `watch.inbox`)
    try:
        with translation.override(settings.LANGUAGE_CODE):
            subject = headline(notification)
            body = "\n\n".join(
                [
                    subject,
                    settings.EDMS_BASE_URL + link(notification),
                    _("You receive this because you saved a search or watch this dossier in edms."),
                ]
            )
        send_mail(subject, body, None, [user.email])
    except Exception:
        Notification.objects.filter(pk=notification_id).update(email_pending=True, emailed_at=None)
        raise
    return True
