"""The Celery app. Configuration comes from Django settings (`CELERY_*`)."""

import os
import time

from celery import Celery
from celery.signals import before_task_publish

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edms.settings")

app = Celery("edms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# When each task entered the broker, in its headers: edms.queues reads the oldest waiting one's.
PUBLISHED_AT = "edms_published_at"


@before_task_publish.connect
def stamp_published_at(sender=None, headers=None, **kwargs) -> None:
    """Stamp the publishing time on a task's message (unless the sender already did)."""
    if headers is not None:
        headers.setdefault(PUBLISHED_AT, time.time())
