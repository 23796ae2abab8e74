"""The daily scan: what has come due for disposition goes into the queue, and what left
being due (a legal hold, a restoration, a changed rule) leaves it. Nothing is destroyed here.

`edms sweep` (run by `edms run` every EDMS_SWEEP_INTERVAL seconds) calls `scan_when_due`,
which scans once EDMS_RETENTION_SCAN_INTERVAL (a day) has passed since the last scan. Tests
and operators pass `now` to `scan` to see the queue as of any day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from dossier.actions import held_documents
from dossier.models import CaseEvent, Document
from retention.models import DispositionItem, DispositionState, RetentionRule, RetentionScan
from retention.rules import due_on, rule_for, trigger_of

OPEN = [DispositionState.PENDING, DispositionState.DISPOSING]
# An approval expunges one document at a time: one claimed this long ago was interrupted.
INTERRUPTED_AFTER = dt.timedelta(hours=1)


def scan_when_due(now: dt.datetime | None = None) -> int:
    """Scan if the last scan is older than EDMS_RETENTION_SCAN_INTERVAL seconds; how many
    documents it queued (0 when it did not scan)."""
    now = now or timezone.now()
    interval = dt.timedelta(seconds=settings.EDMS_RETENTION_SCAN_INTERVAL)
    if RetentionScan.objects.filter(ran_at__gt=now - interval).exists():
        return 0
    return scan(now).queued


def scan(now: dt.datetime | None = None) -> RetentionScan:
    """Queue every document whose retention period has ended by `now`'s day and that no legal
    hold covers; withdraw pending items that are held or no longer due. Safe to run twice."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rules = list(RetentionRule.objects.all())
    held = set(held_documents().values_list("pk", flat=True))
    due = _due_documents(rules, today, held)

    _recover_interrupted(now)
    withdrawn = 0
    for item in DispositionItem.objects.filter(state=DispositionState.PENDING):
        if item.document_id in held:
            withdrawn += _withdraw(item, "a legal hold covers the document", now)
        elif item.document_id not in due:
            withdrawn += _withdraw(item, "no longer due (the case or the rules changed)", now)

    already = set(
        DispositionItem.objects.filter(state__in=OPEN).values_list("document_id", flat=True)
    )
    queued = 0
    for document_id, (rule, trigger, day) in due.items():
        if document_id in already:
            continue
        try:
            with transaction.atomic():
                DispositionItem.objects.create(
                    document_id=document_id,
                    rule=rule,
                    rule_text=str(rule)[:300],
                    trigger_kind=trigger.kind,
                    trigger_date=trigger.date,
                    due_on=day,
                    queued_at=now,
                )
        except IntegrityError:  # another scan queued it meanwhile
            continue
        queued += 1
    return RetentionScan.objects.create(ran_at=now, as_of=today, queued=queued, withdrawn=withdrawn)


def _due_documents(rules: list[RetentionRule], today: dt.date, held: set) -> dict:
    """{document id: (rule, trigger, due day)} of the live, unheld documents due by `today`."""
    kinds = {k for r in rules if not r.permanent for k in r.triggers}
    if not kinds:
        return {}
    events: dict = defaultdict(list)
    # Only dossiers where some rule's clock has started; restorations too, as they stop it.
    started = CaseEvent.objects.filter(kind__in=kinds).values("dossier_id")
    ip_types: dict = {}
    for dossier_id, ip_type, kind, date in (
        CaseEvent.objects.filter(dossier_id__in=started)
        .order_by("date", "recorded_at")
        .values_list("dossier_id", "dossier__ip_type", "kind", "date")
    ):
        events[dossier_id].append((kind, date))
        ip_types[dossier_id] = ip_type
    # Only the documents of dossiers some rule could make due by today: most closed dossiers'
    # periods run for years, and an office has millions of their documents to skip.
    candidates = [d for d in events if _may_be_due(rules, ip_types[d], events[d], today)]
    documents = Document.objects.filter(
        dossier_id__in=candidates, expunged_at__isnull=True
    ).values_list("pk", "dossier_id", "dossier__ip_type", "doc_type_id")
    due = {}
    for document_id, dossier_id, ip_type, doc_type in documents.iterator():
        if document_id in held:
            continue
        rule = rule_for(rules, ip_type, doc_type)
        if rule is None or rule.permanent:
            continue
        trigger = trigger_of(rule, events[dossier_id])
        if trigger is None:
            continue
        day = due_on(rule, trigger)
        if day is not None and day <= today:
            due[document_id] = (rule, trigger, day)
    return due


def _may_be_due(rules: list[RetentionRule], ip_type: str, events, today: dt.date) -> bool:
    """Some period rule of the dossier's IP type (whatever the document type) has ended by
    `today`: an over-estimate (the rule deciding for a document may be another), never an
    under-estimate, so a dossier it rules out has no due document."""
    for rule in rules:
        if rule.permanent or rule.ip_type not in ("", ip_type):
            continue
        trigger = trigger_of(rule, events)
        day = due_on(rule, trigger) if trigger is not None else None
        if day is not None and day <= today:
            return True
    return False


def _recover_interrupted(now: dt.datetime) -> None:
    """Items an approval claimed and never finished (its process died): disposed of if their
    document was expunged, else back in the queue to be approved again."""
    stale = DispositionItem.objects.filter(
        state=DispositionState.DISPOSING, decided_at__lt=now - INTERRUPTED_AFTER
    )
    stale.filter(document__expunged_at__isnull=False).update(state=DispositionState.DISPOSED)
    stale.filter(document__expunged_at__isnull=True).update(
        state=DispositionState.PENDING, decided_at=None
    )


def _withdraw(item: DispositionItem, reason: str, now: dt.datetime) -> int:
    """Take a pending item out of the queue (1), unless it was decided meanwhile (0)."""
    return DispositionItem.objects.filter(pk=item.pk, state=DispositionState.PENDING).update(
        state=DispositionState.WITHDRAWN, withdrawn_reason=reason, decided_at=now
    )
