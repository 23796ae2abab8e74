"""Figures for the digitization dashboard: throughput, error and rescan rates, backlog."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from dossier.models import AuditEvent
from scanning.models import OPEN_PART_STATES, BatchState, PartState, ScanBatch, ScanPart


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def dashboard(days: int = 30) -> dict:
    since = timezone.now() - dt.timedelta(days=days)
    batches = ScanBatch.objects.filter(created_at__gte=since)
    per_day = (
        batches.annotate(day=TruncDate("created_at"))
        .values("day", "station", "operator_label")
        .annotate(batches=Count("id"), pages_in=Sum("pages_in"), pages_out=Sum("pages_out"))
        .order_by("day", "station", "operator_label")
    )
    parts = ScanPart.objects.filter(batch__in=batches)
    by_state = dict(parts.values_list("state").annotate(n=Count("id")).order_by())
    decided = sum(by_state.get(s, 0) for s in (PartState.APPROVED, PartState.REJECTED))
    pages_out = batches.aggregate(n=Sum("pages_out"))["n"] or 0
    rescans = AuditEvent.objects.filter(at__gte=since, action="scan.replace_page").count()
    failed = batches.filter(state=BatchState.FAILED).count()
    open_parts = ScanPart.objects.filter(state__in=OPEN_PART_STATES)
    return {
        "days": days,
        "per_day": [
            {
                "day": row["day"].isoformat(),
                "station": row["station"],
                "operator": row["operator_label"],
                "batches": row["batches"],
                "pages_in": row["pages_in"] or 0,
                "pages_out": row["pages_out"] or 0,
            }
            for row in per_day
        ],
        "parts": {state.value: by_state.get(state.value, 0) for state in PartState},
        "error_rate": _rate(failed, batches.count()),
        "rejection_rate": _rate(by_state.get(PartState.REJECTED, 0), decided),
        "rescan_rate": _rate(rescans, pages_out),
        "backlog": {
            "queued": ScanBatch.objects.filter(state=BatchState.QUEUED).count(),
            "splitting": ScanBatch.objects.filter(state=BatchState.SPLITTING).count(),
            "in_qc": ScanBatch.objects.filter(state=BatchState.QC).count(),
            "open_parts": open_parts.count(),
            "open_pages": open_parts.aggregate(n=Sum("page_count"))["n"] or 0,
            "unassigned_parts": open_parts.filter(Q(state=PartState.UNASSIGNED)).count(),
        },
    }
