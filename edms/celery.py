"""The Celery app. Configuration comes from Django settings (`CELERY_*`)."""

import ctypes
import ctypes.util
import os

from celery import Celery
from celery.signals import task_postrun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edms.settings")
# Celery's Django fixup runs Django's system checks when a worker starts and throws their
# findings away; what they leave is the whole URLconf imported (every view, the admin, the
# OpenAPI generator and through it django.test: ~13 MiB in each worker, which serves no page).
os.environ.setdefault("CELERY_SKIP_CHECKS", "1")

app = Celery("edms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()


@task_postrun.connect
def give_back_freed_memory(**_) -> None:
    """After each task, hand the memory it freed back to the system. glibc keeps freed pages
    for reuse, and a task's peak (an index writer's heap and threads, a document's text) would
    otherwise stay in the worker for good: measured, ~100 MiB after a few index commits,
    ~10 MiB left after `malloc_trim` (which takes a few milliseconds)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
