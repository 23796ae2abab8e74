"""Reactions to domain events (listed in `EDMS_EVENT_SUBSCRIBERS`)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from dossier.models import Event, EventKind
from search.tasks import sync_index
from search.wakeups import claim_wakeup, forget_wakeup

log = logging.getLogger(__name__)

# dossier.created carries no document yet, and a blob's integrity is not indexed; everything else
# may change what is indexed.
IGNORED = {EventKind.DOSSIER_CREATED, EventKind.BLOB_CORRUPTED, EventKind.BLOB_REPAIRED}


def wake_indexer(events: list[Event]) -> None:
    """Ask the index queue's consumer to catch up with the outbox: one task for the batch, and
    none while one is queued already (`search.wakeups`).

    The indexer reads the events itself, after its own cursor, so a lost wake-up loses nothing:
    the next one (or `edms search sync`) applies every event since.
    """
    if all(event.kind in IGNORED for event in events):
        return
    if (stamp := claim_wakeup()) is not None:
        transaction.on_commit(lambda: _send(stamp))


def _send(stamp: dt.datetime) -> None:
    try:
        sync_index.delay()
    except Exception:
        forget_wakeup(stamp)
        log.exception("could not queue an index sync; the next event asks again")
