"""Celery tasks of watch: thin, idempotent, taking ids only."""

from __future__ import annotations

import smtplib

from celery import shared_task

from watch.mail import send_notification_mail


@shared_task(
    name="watch.tasks.email_notification",
    ignore_result=True,
    # The mail server may be down or refuse for a while; the row stays owed meanwhile.
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=8,
)
def email_notification(notification_id: int) -> bool:
    return send_notification_mail(notification_id)
