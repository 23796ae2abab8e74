"""The Celery app. Configuration comes from Django settings (`CELERY_*`)."""

import ctypes
import ctypes.util
import inspect
import logging.config
import os
from contextvars import Token

from celery import Celery
from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun
from django.conf import settings

from dossier import log_context

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edms.settings")
# Celery's Django fixup runs Django's system checks when a worker starts and throws their
# findings away; what they leave is the whole URLconf imported (every view, the admin, the
# OpenAPI generator and through it django.test: ~13 MiB in each worker, which serves no page).
os.environ.setdefault("CELERY_SKIP_CHECKS", "1")

app = Celery("edms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def configure_logging(**_) -> None:
    """The worker logs like every edms process (edms.logs: JSON lines or text, with the task's
    fields): Celery, seeing a receiver here, leaves its own handlers and format out."""
    logging.config.dictConfig(settings.LOGGING)


# Task arguments that name what a task works on, and the log field each goes into.
_ARGUMENT_LOG_FIELDS = {
    "version_id": "version_id",
    "document_id": "document_id",
    "dossier_key": "dossier_key",
}
_log_tokens: dict[str, Token] = {}


# The message header that carries the request id from whoever queued a task to the task.
REQUEST_ID_HEADER = "edms_request_id"


@before_task_publish.connect
def pass_on_the_request_id(headers=None, **_) -> None:
    """A task queued while a request (or a task queued by one) is handled carries its request
    id: the work a request caused, in the workers too, is found by that id."""
    request_id = log_context.current().get("request_id")
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@task_prerun.connect
def bind_task_log_fields(task_id=None, task=None, args=(), kwargs=None, **_) -> None:
    """The task's id and name, the request id it came with, and the version, document or
    dossier its arguments name, in every line logged while it runs (dossier.log_context)."""
    fields = {"request_id": getattr(task.request, REQUEST_ID_HEADER, None)}
    try:
        named = inspect.signature(task.run).bind_partial(*args, **(kwargs or {})).arguments
    except (TypeError, ValueError):
        named = kwargs or {}
    fields |= {field: named[name] for name, field in _ARGUMENT_LOG_FIELDS.items() if name in named}
    _log_tokens[task_id] = log_context.bind(task_id=task_id, task_name=task.name, **fields)


@task_postrun.connect
def unbind_task_log_fields(task_id=None, **_) -> None:
    if (token := _log_tokens.pop(task_id, None)) is not None:
        try:
            log_context.unbind(token)
        except (ValueError, RuntimeError):  # bound in another context, which ended with it
            pass


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
