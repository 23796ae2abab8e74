"""Recording the registry's legal-status case events on a dossier (`dossier.case_events`)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from dossier.actions.errors import InvalidChange
from dossier.audit import Actor, record_audit
from dossier.case_events import (
    PUBLICATION_KINDS,
    CaseEventKind,
    effective_publication_date,
    wipo_code_problem,
)
from dossier.events import append_event
from dossier.models import CaseEvent, Dossier, EventKind

# The note on a publication event recorded because the registry set `published_at` directly.
PUBLISHED_AT_NOTE = "Recorded from the dossier's published_at."


def record_case_event(
    dossier: Dossier,
    *,
    kind: str,
    date: dt.date,
    actor: Actor,
    wipo_code: str = "",
    note: str = "",
) -> CaseEvent:
    """Append a legal-status event to the dossier's history, and re-derive its publication date.

    A publication, withdrawal or restoration moves `published_at` to what the whole log says
    (`effective_publication_date`), which is what the visibility rules read. Events are never
    changed: the registry corrects one by recording another. Announced as `dossier.case_event`.
    """
    if kind not in CaseEventKind.values:
        raise InvalidChange(
            f"unknown case event kind {kind!r}; one of {', '.join(CaseEventKind.values)}",
            field="kind",
        )
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise InvalidChange("the event's date must be a date (YYYY-MM-DD)", field="date")
    wipo_code = wipo_code.strip().upper()
    if wipo_code and (problem := wipo_code_problem(dossier.ip_type, wipo_code)):
        raise InvalidChange(problem, field="wipo_code")
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update().get(pk=dossier.pk)
        event = CaseEvent.objects.create(
            dossier=dossier,
            kind=kind,
            date=date,
            wipo_code=wipo_code,
            note=note.strip(),
            recorded_by=actor.name,
        )
        published_before = dossier.published_at
        if kind in PUBLICATION_KINDS:
            _derive_published_at(dossier)
        detail = {"kind": kind, "date": date.isoformat(), "wipo_code": wipo_code}
        if dossier.published_at != published_before:
            detail["published_at"] = {
                "from": _iso(published_before),
                "to": _iso(dossier.published_at),
            }
        record_audit(
            actor,
            "dossier.case_event",
            object_type="dossier",
            object_id=dossier.id,
            dossier_key=dossier.key,
            detail=detail,
        )
        append_event(
            EventKind.CASE_EVENT,
            dossier_key=dossier.key,
            payload={
                "dossierId": str(dossier.id),
                "caseEventId": str(event.id),
                "kind": kind,
                "date": date.isoformat(),
                "wipoCode": wipo_code,
                "publishedAt": _iso(dossier.published_at),
            },
        )
    return event


def record_published_at(dossier: Dossier, *, actor: Actor) -> None:
    """Inside `upsert_dossier`'s transaction: the registry set `published_at` directly, so the
    history gets the publication event it stands for. The update itself is audited and
    announced (`dossier.updated`) by the upsert; the date stays as the registry set it."""
    if dossier.published_at is None:
        return
    CaseEvent.objects.create(
        dossier=dossier,
        kind=CaseEventKind.PUBLICATION,
        date=dossier.published_at,
        note=PUBLISHED_AT_NOTE,
        recorded_by=actor.name,
    )


def _derive_published_at(dossier: Dossier) -> None:
    events = dossier.case_events.filter(kind__in=PUBLICATION_KINDS).values_list("kind", "date")
    published_at = effective_publication_date(events)
    if published_at != dossier.published_at:
        dossier.published_at = published_at
        dossier.revision += 1
        dossier.save(update_fields=["published_at", "revision", "updated_at"])


def _iso(date: dt.date | None) -> str | None:
    return date.isoformat() if date else None
