"""What the pages show of DAS requests: a dossier's, and those that wait or failed."""

from __future__ import annotations

from django.db.models import QuerySet

from dossier.models import Dossier
from exchange.das.models import DasRequest, State

SHOWN = 50


def requests_of(dossier: Dossier) -> list[DasRequest]:
    """The dossier's requests, newest first (the latest `SHOWN`)."""
    return list(DasRequest.objects.filter(dossier=dossier).order_by("-created_at")[:SHOWN])


def needing_attention(visible_dossiers: QuerySet[Dossier]) -> list[DasRequest]:
    """Requests of dossiers the reader may see that wait for DAS or failed, newest first."""
    return list(
        DasRequest.objects.filter(
            dossier__in=visible_dossiers,
            state__in=(State.QUEUED, State.PENDING, State.FAILED),
        )
        .select_related("dossier")
        .order_by("-updated_at")[:SHOWN]
    )
