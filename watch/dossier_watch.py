"""Watched dossiers: an outbox subscriber (`EDMS_EVENT_SUBSCRIBERS`) telling each watcher of
new documents, new versions, cancellations and case events in the dossiers they watch.

A watcher is told only of what they may see now: a document event when `visible_documents`
holds the document, a case event when `visible_dossiers` holds the dossier; and only of events
after they began watching. Notifications are unique per (user, event), so a batch handed over
twice tells once.
"""

from __future__ import annotations

from collections import defaultdict

from dossier import access
from dossier.models import Event, EventKind
from watch.models import DossierWatch, Reason
from watch.notify import notify

TOLD = {
    EventKind.DOCUMENT_REGISTERED,
    EventKind.VERSION_ADDED,
    EventKind.DOCUMENT_CANCELLED,
    EventKind.CASE_EVENT,
}


def notify_watchers(events: list[Event]) -> None:
    """Event subscriber: a notification per watcher who may see the change."""
    told = [event for event in events if event.kind in TOLD]
    if not told:
        return
    watches = list(
        DossierWatch.objects.filter(
            dossier__key__in={event.dossier_key for event in told}, owner__is_active=True
        ).select_related("owner", "dossier")
    )
    if not watches:
        return  # the common case: one query per batch
    by_owner: dict[int, list[DossierWatch]] = defaultdict(list)
    for watch in watches:
        by_owner[watch.owner_id].append(watch)
    for owner_watches in by_owner.values():
        _notify_owner(owner_watches, told)


def _notify_owner(watches: list[DossierWatch], events: list[Event]) -> None:
    user = watches[0].owner
    since = {watch.dossier.key: watch.created_at for watch in watches}
    theirs = [e for e in events if e.dossier_key in since and e.at >= since[e.dossier_key]]
    if not theirs:
        return
    document_ids = {e.document_id for e in theirs if e.document_id}
    seen_documents = set(
        access.visible_documents(user).filter(id__in=document_ids).values_list("id", flat=True)
    )
    seen_dossiers = set(
        access.visible_dossiers(user)
        .filter(key__in={e.dossier_key for e in theirs})
        .values_list("key", flat=True)
    )
    for event in theirs:
        if event.document_id:
            if event.document_id not in seen_documents:
                continue
        elif event.dossier_key not in seen_dossiers:
            continue
        notify(
            user,
            unique={"event": event},
            reason=Reason.DOSSIER_CHANGE,
            kind=event.kind,
            dossier_key=event.dossier_key,
            document_id=event.document_id,
            version=event.version,
        )
