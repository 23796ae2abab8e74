"""Marking a paper original as received: stored, audited, announced; corrected, never doubled."""

from __future__ import annotations

import datetime as dt

import pytest

from dossier import actions
from dossier.models import AuditEvent, Event, EventKind
from tests.conftest import create_dossier, file_document


@pytest.fixture
def document(db):
    return file_document(create_dossier())


def updates(document) -> list[Event]:
    return list(Event.objects.filter(kind=EventKind.DOCUMENT_UPDATED, document_id=document.id))


def test_a_received_paper_original_is_stored_audited_and_announced(document, system_actor):
    revision = document.revision
    result = actions.record_paper_original(
        document,
        received_on=dt.date(2024, 3, 4),
        location=" Archive B, shelf 12 ",
        note="original with signatures",
        actor=system_actor,
    )
    document.refresh_from_db()
    assert document == result
    assert document.paper_received_on == dt.date(2024, 3, 4)
    assert document.paper_location == "Archive B, shelf 12"
    assert document.paper_note == "original with signatures"
    assert document.revision == revision + 1
    audit = AuditEvent.objects.get(action="document.paper_original")
    assert audit.actor_label == "tests"
    assert audit.detail["paper_received_on"] == {"from": None, "to": "2024-03-04"}
    [event] = updates(document)
    assert event.payload["documentId"] == str(document.id)
    assert event.payload["paperReceivedOn"] == "2024-03-04"
    assert event.payload["fields"] == ["paper_location", "paper_note", "paper_received_on"]


def test_the_same_record_again_changes_nothing_and_a_correction_is_audited(document, system_actor):
    record = {"received_on": dt.date(2024, 3, 4), "location": "Archive B", "actor": system_actor}
    actions.record_paper_original(document, **record)
    actions.record_paper_original(document, **record)
    assert len(updates(document)) == 1
    actions.record_paper_original(document, **(record | {"location": "Archive C"}))
    corrections = AuditEvent.objects.filter(action="document.paper_original").order_by("id")
    assert corrections.count() == 2
    assert corrections.last().detail == {"paper_location": {"from": "Archive B", "to": "Archive C"}}
    assert len(updates(document)) == 2


def test_a_future_date_or_a_cancelled_document_is_refused_and_nothing_changes(
    document, system_actor
):
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    with pytest.raises(actions.InvalidChange) as refused:
        actions.record_paper_original(document, received_on=tomorrow, actor=system_actor)
    assert refused.value.field == "received_on"
    actions.cancel_document(document, reason="filed twice", actor=system_actor)
    with pytest.raises(actions.DocumentCancelledError):
        actions.record_paper_original(document, received_on=dt.date(2024, 3, 4), actor=system_actor)
    document.refresh_from_db()
    assert document.paper_received_on is None
    assert not AuditEvent.objects.filter(action="document.paper_original").exists()
    assert not updates(document)
