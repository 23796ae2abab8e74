"""The lease of a processing stage: which task it waits for, who runs it, whether they live.

A stage queued for a task records that task's id (`Processing.task_id`); once claimed, the
runner (worker hostname and pid) refreshes `heartbeat_at` every `HEARTBEAT_EVERY` seconds from a
small thread beside the stage. So:

- a running stage whose heartbeat is older than `LEASE` lost its runner (a killed worker, a
  machine gone): `claim()` may take it over and the sweeper queues it again, after about a
  minute instead of a stage's whole time limit;
- a worker that comes back under the same hostname (the supervisor restarts it so) queues again
  at once what an earlier incarnation of itself was running (`ingest.sweeper.resume_interrupted`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ingest.models import Processing, State

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 10.0  # seconds
# A runner silent this long is gone: several missed beats, so a busy database or a pause of the
# machine is not taken for a death.
LEASE = dt.timedelta(seconds=75)


@dataclass(frozen=True)
class Runner:
    host: str
    pid: int


def this_runner(host: str | None = None) -> Runner:
    """Who runs a stage here: the Celery worker's hostname (its node name) when given."""
    return Runner(host or socket.gethostname(), os.getpid())


def expired(now: dt.datetime) -> Q:
    """Running rows whose runner stopped beating (rows from before heartbeats: by start)."""
    cutoff = now - LEASE
    return Q(state=State.RUNNING) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )


def alive(now: dt.datetime) -> Q:
    """Running rows whose runner beat within the lease."""
    cutoff = now - LEASE
    return Q(state=State.RUNNING) & (
        Q(heartbeat_at__gte=cutoff) | Q(heartbeat_at__isnull=True, started_at__gte=cutoff)
    )


@contextmanager
def heartbeat(processing: Processing, runner: Runner) -> Iterator[None]:
    """Keep `processing`'s lease fresh while the block runs.

    Not inside an open transaction (a test's): no other process could see the beats, and the
    thread's own connection would wait on that transaction's lock.
    """
    if transaction.get_connection().in_atomic_block:
        yield
        return
    stop = threading.Event()
    beater = threading.Thread(
        target=_beat,
        args=(processing.pk, runner, stop),
        name=f"heartbeat-{processing.pk}",
        daemon=True,
    )
    beater.start()
    try:
        yield
    finally:
        stop.set()
        beater.join(timeout=HEARTBEAT_EVERY)


def _beat(pk: int, runner: Runner, stop: threading.Event) -> None:
    mine = Processing.objects.filter(
        pk=pk, state=State.RUNNING, runner_host=runner.host, runner_pid=runner.pid
    )
    try:
        while not stop.wait(HEARTBEAT_EVERY):
            try:
                if not mine.update(heartbeat_at=timezone.now()):
                    return  # finished, or taken over: nothing of ours to keep alive
            except Exception:
                log.exception("could not refresh the heartbeat of processing %s", pk)
    finally:
        connection.close()  # this thread's own connection


# --- A worker's return -------------------------------------------------------------------------


def interrupted_by_earlier_incarnation(host: str) -> list[Processing]:
    """Rows left running by a worker of this hostname that is no more: their runner pid is
    neither this process nor one of its children (a pool process of this incarnation)."""
    rows = Processing.objects.filter(state=State.RUNNING, runner_host=host)
    return [row for row in rows if not _ours(row.runner_pid)]


def _ours(pid: int | None) -> bool:
    if pid is None:
        return False
    if pid == os.getpid():
        return True
    return _parent_of(pid) == os.getpid()


def _parent_of(pid: int) -> int | None:
    """The parent pid of a live process (Linux's /proc); None when it is gone or unknown."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None
