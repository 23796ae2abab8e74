"""Legal-status case events (dossier/case_events.py, actions.record_case_event) and the
visibility they drive: publication opens the file from its date, outgoing documents from the
day after their dispatch, a withdrawal before publication keeps everything closed.

The replay tests pass `today` to the access functions explicitly and walk the calendar, so they
see what the public sees on each day of the case without touching the clock.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from dossier import access, actions
from dossier.audit import Actor
from dossier.case_events import effective_publication_date
from dossier.models import AuditEvent, CaseEvent, Event, EventKind
from search.indexer import affected_documents
from tests.conftest import create_dossier, file_document

pytestmark = pytest.mark.django_db

REGISTRY = Actor(label="ipas")
DAY0 = dt.date(2025, 1, 6)  # filing day of the replayed cases


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


def public_titles(dossier, today: dt.date) -> set[str]:
    """What an anonymous caller may read of the dossier on `today` (database rule)."""
    documents = access.visible_documents(AnonymousUser(), today=today).filter(dossier=dossier)
    return set(documents.values_list("title", flat=True))


def readable_by_public_in_index(dossier, today: dt.date) -> set[str]:
    """The same question answered by the principals the search index stores."""
    principals = access.user_principals(AnonymousUser())
    return {
        document.title
        for document in dossier.documents.select_related("dossier")
        if access.document_readers(document).allow(principals, today)
    }


def file_wrapper(dossier) -> None:
    """A request, claims, a search report sent on day 3 and an office action sent on day 8,
    plus what is never public: a draft and a confidential letter."""
    file_document(dossier, type_code="REQ", title="request", official_date=day(0))
    file_document(dossier, type_code="CLM", title="claims", official_date=day(0))
    file_document(dossier, type_code="SR", title="search report", official_date=day(3))
    file_document(dossier, type_code="OA", title="office action", official_date=day(8))
    file_document(dossier, type_code="DRAFT", title="draft", official_date=day(2))
    file_document(
        dossier,
        type_code="LETTER",
        title="medical",
        official_date=day(1),
        visibility="confidential",
    )


def replay(dossier, log: list[tuple[str, int]]) -> None:
    for kind, n in log:
        actions.record_case_event(dossier, kind=kind, date=day(n), actor=REGISTRY)


def test_publication_opens_the_file_and_outgoing_documents_the_day_after_dispatch():
    dossier = create_dossier("BG/P/2025/000001", filing_date=day(0))
    file_wrapper(dossier)
    replay(dossier, [("filing", 0), ("publication", 5), ("grant", 12), ("withdrawal", 14)])

    opened = {"request", "claims", "search report"}  # the report was sent before publication
    expected = {n: set() for n in range(5)}
    expected |= {n: opened for n in range(5, 9)}
    # Sent on day 8, public from day 9; a withdrawal after publication closes nothing.
    expected |= {n: opened | {"office action"} for n in range(9, 16)}
    for n, titles in expected.items():
        assert public_titles(dossier, day(n)) == titles, f"day {n}"
        assert readable_by_public_in_index(dossier, day(n)) == titles, f"index, day {n}"
        dossier_visible = access.visible_dossiers(AnonymousUser(), today=day(n))
        assert dossier_visible.filter(pk=dossier.pk).exists() == (n >= 5), f"day {n}"


def test_withdrawal_before_publication_keeps_everything_closed_until_restored():
    closed = create_dossier("BG/P/2025/000002")
    file_wrapper(closed)
    # The registry still reports the publication it had scheduled: it must not open the file.
    replay(closed, [("filing", 0), ("withdrawal", 4), ("publication", 5), ("lapse", 6)])
    closed.refresh_from_db()
    assert closed.published_at is None
    for n in range(16):
        assert public_titles(closed, day(n)) == set(), f"day {n}"
        assert readable_by_public_in_index(closed, day(n)) == set(), f"index, day {n}"

    restored = create_dossier("BG/P/2025/000003")
    file_wrapper(restored)
    replay(
        restored, [("withdrawal", 4), ("publication", 5), ("restoration", 6), ("publication", 7)]
    )
    restored.refresh_from_db()
    assert restored.published_at == day(7)
    assert public_titles(restored, day(6)) == set()
    assert public_titles(restored, day(7)) == {"request", "claims", "search report"}
    assert public_titles(restored, day(9)) == {
        "request",
        "claims",
        "search report",
        "office action",
    }


def test_the_earliest_publication_counts_and_a_same_day_withdrawal_wins():
    assert effective_publication_date([("publication", day(9)), ("publication", day(5))]) == day(5)
    assert effective_publication_date([("publication", day(5)), ("withdrawal", day(5))]) is None
    assert effective_publication_date([("grant", day(5)), ("filing", day(0))]) is None


def test_recording_is_audited_announced_and_moves_published_at(system_actor):
    dossier = create_dossier("BG/P/2025/000004")
    document = file_document(dossier, type_code="CLM", title="claims")
    event = actions.record_case_event(
        dossier, kind="publication", date=day(5), wipo_code=" b10 ", note="A1", actor=REGISTRY
    )

    dossier.refresh_from_db()
    assert dossier.published_at == day(5)
    assert (event.kind, event.date, event.wipo_code, event.recorded_by) == (
        "publication",
        day(5),
        "B10",
        "ipas",
    )
    audit = AuditEvent.objects.get(action="dossier.case_event")
    assert audit.actor_label == "ipas"
    assert audit.detail["published_at"] == {"from": None, "to": "2025-01-11"}
    announced = Event.objects.get(kind=EventKind.CASE_EVENT)
    assert announced.dossier_key == dossier.key
    assert announced.payload["kind"] == "publication"
    assert announced.payload["publishedAt"] == "2025-01-11"
    # The search indexer re-reads every document of the dossier (their public_from moved).
    assert affected_documents([announced]) == [str(document.id)]


@pytest.mark.parametrize(
    ("kind", "date", "code", "ip_type", "field"),
    [
        ("published", day(1), "", "patent", "kind"),
        ("publication", "2025-01-11", "", "patent", "date"),
        ("publication", day(1), "10B", "patent", "wipo_code"),
        ("publication", day(1), "B10", "gi", "wipo_code"),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(kind, date, code, ip_type, field):
    dossier = create_dossier("BG/P/2025/000005", ip_type=ip_type)
    with pytest.raises(actions.InvalidChange) as refused:
        actions.record_case_event(dossier, kind=kind, date=date, wipo_code=code, actor=REGISTRY)
    assert refused.value.field == field
    assert not CaseEvent.objects.exists()
    assert not Event.objects.filter(kind=EventKind.CASE_EVENT).exists()
    dossier.refresh_from_db()
    assert dossier.published_at is None


def test_setting_published_at_directly_records_the_publication_event():
    dossier = create_dossier("BG/T/2025/000006", ip_type="trademark", published_at=day(5))
    assert list(dossier.case_events.values_list("kind", "date")) == [("publication", day(5))]
    actions.upsert_dossier(dossier.key, {"published_at": day(6)}, actor=REGISTRY)
    actions.upsert_dossier(dossier.key, {"published_at": day(6)}, actor=REGISTRY)  # no change
    dossier.refresh_from_db()
    assert dossier.published_at == day(6)  # as the registry set it
    assert list(dossier.case_events.values_list("date", flat=True)) == [day(5), day(6)]


def test_an_outgoing_document_dated_on_the_last_day_there_is_is_never_public():
    dossier = create_dossier("BG/P/2025/000007")
    letter = file_document(dossier, type_code="OA", title="far", official_date=dt.date.max)
    replay(dossier, [("publication", 1)])
    letter.refresh_from_db()
    assert access.document_readers(letter).public_from is None  # and no overflow
    assert public_titles(dossier, dt.date(9999, 12, 30)) == set()
