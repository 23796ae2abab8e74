"""Wake the indexer once, however many commits ask for it meanwhile.

Subscribers ask for a `sync_index` after every batch of events; while one is queued and not yet
started it will see those events too (it reads the outbox after its own cursor), so no other is
sent. A row marks the queued task and the task removes it as it starts, before reading the
outbox: an event committed after that asks for, and gets, a new task. A row older than
`RESEND_AFTER` is taken for a lost task (a broker that lost it) and a new one is sent: the
index queue has one consumer that only ever runs short syncs, so a real wait that long is rare
and a second task then costs one empty sync. No cache or broker feature is needed: one row.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from search.models import IndexWakeup

KEY = "sync"
RESEND_AFTER = dt.timedelta(seconds=60)


def claim_wakeup() -> dt.datetime | None:
    """Mark a wake-up as queued and return its stamp, or None when one is queued already."""
    now = timezone.now()
    if IndexWakeup.objects.filter(pk=KEY, queued_at__gte=now - RESEND_AFTER).exists():
        return None
    IndexWakeup.objects.update_or_create(pk=KEY, defaults={"queued_at": now})
    return now


def forget_wakeup(stamp: dt.datetime) -> None:
    """The wake-up stamped `stamp` could not be sent: let the next request send one."""
    IndexWakeup.objects.filter(pk=KEY, queued_at=stamp).delete()


def wakeup_started() -> None:
    """The queued sync starts: from now on, a new event needs a new wake-up."""
    IndexWakeup.objects.filter(pk=KEY).delete()
