"""Fixity passes: which blobs a scheduled scrub checks, and the record of each pass.

A scheduled pass (`edms fixity --cycle-days N`, started nightly by `edms run` or a timer) checks
a share of the blobs rather than all of them: the least recently verified first, at least
1/N of the store, and every blob whose last good check is more than N days old. Night after
night the oldest checks move to the front, so the whole store is re-hashed within N days while
each night reads only its share. Blobs marked corrupt are checked on every pass besides the
share, so a copy an operator restored is found (and served again) the next night.

Each pass is recorded (`FixityPass`): when, how many blobs and bytes, which were bad. The
operations page and the admin show the last ones; the damage itself is announced on the event
feed by `dossier.fixity.mark_corrupt`.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Iterable

from django.db.models import F, Q
from django.utils import timezone

from dossier.fixity import FixityProblem, check_blob
from dossier.models import Blob, FixityPass


def due_share(cycle_days: int, *, now: dt.datetime | None = None) -> list[Blob]:
    """The blobs a pass of a `cycle_days` cycle checks, in order: those marked corrupt, then
    the least recently verified (never verified first), as many as the larger of 1/cycle_days
    of the store and the number whose check is overdue."""
    now = now or timezone.now()
    live = Blob.objects.filter(expunged_at__isnull=True)
    corrupt = list(live.filter(corrupt_since__isnull=False).order_by("corrupt_since"))
    healthy = live.filter(corrupt_since__isnull=True)
    overdue_before = now - dt.timedelta(days=cycle_days)
    overdue = healthy.filter(
        Q(verified_at__lt=overdue_before)
        | Q(verified_at__isnull=True, created_at__lt=overdue_before)
    ).count()
    share = max(math.ceil(healthy.count() / cycle_days), overdue)
    # Never-verified content first (PostgreSQL would sort NULL last on ascending order).
    oldest = healthy.order_by(F("verified_at").asc(nulls_first=True), "sha256")
    return corrupt + list(oldest[:share])


def run_pass(
    blobs: Iterable[Blob],
    *,
    planned: int,
    cycle_days: int | None = None,
    max_bytes: int = 0,
    max_seconds: int = 0,
    on_checked: Callable[[int, Blob, FixityProblem | None], None] | None = None,
) -> FixityPass:
    """Check `blobs` (`planned` of them) and record the pass. It stops before the next blob
    once `max_bytes` were read or `max_seconds` spent (0: no bound), having checked at least
    one; `on_checked(index, blob, problem)` is told of each blob checked."""
    record = FixityPass.objects.create(started_at=timezone.now(), cycle_days=cycle_days)
    began = time.monotonic()
    bad = []
    checked = checked_bytes = 0
    for blob in blobs:
        if checked and (
            (max_bytes and checked_bytes >= max_bytes)
            or (max_seconds and time.monotonic() - began >= max_seconds)
        ):
            break
        problem = check_blob(blob)
        checked += 1
        checked_bytes += blob.size
        if problem is not None:
            bad.append(
                {"sha256": problem.sha256, "problem": problem.problem, "detail": problem.detail}
            )
        if on_checked is not None:
            on_checked(checked, blob, problem)
    record.finished_at = timezone.now()
    record.checked, record.checked_bytes, record.bad = checked, checked_bytes, bad
    record.left_due = max(planned - checked, 0)
    record.save()
    return record


def last_passes(limit: int = 5) -> list[FixityPass]:
    """The most recent passes, newest first."""
    return list(FixityPass.objects.order_by("-started_at")[:limit])


def ran_recently(within_seconds: float, *, now: dt.datetime | None = None) -> bool:
    """Whether a scheduled pass started less than `within_seconds` ago (a restart of `edms run`
    then does not start another)."""
    now = now or timezone.now()
    since = now - dt.timedelta(seconds=within_seconds)
    return FixityPass.objects.filter(cycle_days__isnull=False, started_at__gt=since).exists()
