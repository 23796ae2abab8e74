"""A retention timeline replayed over simulated years: the daily scan is run `as of` chosen days
(its `now`), case events move the clock, a legal hold in the middle keeps documents out of the
queue and out of the expunge action's reach, its release lets them through, and a records
manager's approval expunges them (content gone, tombstone and audit kept)."""

from __future__ import annotations

import datetime as dt

import pytest

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import AuditEvent, Event, EventKind, Version
from retention.disposition import approve_disposition
from retention.models import DispositionItem, DispositionState, RetentionRule, RetentionScan
from retention.rules import add_years, rule_for
from retention.scan import scan, scan_when_due
from tests.conftest import create_dossier, file_document

REGISTRY = Actor(label="registry")
RECORDS_MANAGER = Actor(label="records manager")
COURT = {"reason": "infringement action pending", "reference": "District Court 4 O 12/2025"}


def day(text: str) -> dt.datetime:
    """Noon UTC of a day: the scan's `now`."""
    return dt.datetime.fromisoformat(f"{text}T12:00:00+00:00")


def pending() -> dict[str, DispositionItem]:
    items = DispositionItem.objects.filter(state=DispositionState.PENDING)
    return {item.document.doc_type_id: item for item in items.select_related("document")}


def content_of(document) -> str:
    return Version.objects.get(document=document, number=1).blob_id


@pytest.fixture
def case(db):
    """A patent filed in 2015, granted in 2017, lapsed on 1 March 2020 (the seeded default: 5
    years after lapse; grant documents permanent)."""
    dossier = create_dossier()
    documents = {
        code: file_document(dossier, type_code=code, filename=f"{code}.txt")
        for code in ("CLM", "DESC", "GRANT")
    }
    for kind, date in [("filing", "2015-01-10"), ("grant", "2017-05-01"), ("lapse", "2020-03-01")]:
        actions.record_case_event(
            dossier, kind=kind, date=dt.date.fromisoformat(date), actor=REGISTRY
        )
    return dossier, documents


def test_the_seeded_rules_keep_grants_for_good_and_the_rest_five_years_after_the_end(db):
    rules = list(RetentionRule.objects.all())
    assert rule_for(rules, "patent", "GRANT").permanent
    default = rule_for(rules, "trademark", "CLM")
    assert (default.years, "lapse" in default.triggers, "withdrawal" in default.triggers) == (
        5,
        True,
        True,
    )
    assert add_years(dt.date(2024, 2, 29), 5) == dt.date(2029, 2, 28)


def test_a_timeline_with_a_hold_in_the_middle(case):
    dossier, documents = case
    claims, description, grant = documents["CLM"], documents["DESC"], documents["GRANT"]

    # Years pass; on the eve of the fifth anniversary of the lapse nothing is due.
    for as_of in ("2020-03-02", "2022-07-15", "2025-02-28"):
        assert scan(day(as_of)).queued == 0
    assert pending() == {}

    # A court case comes before the period ends: the whole dossier is held.
    hold = actions.place_legal_hold(dossier, actor=RECORDS_MANAGER, **COURT)
    assert scan(day("2025-03-01")).queued == 0  # due now, but held
    assert pending() == {}
    with pytest.raises(actions.LegalHoldActive, match="District Court 4 O 12/2025"):
        actions.expunge_document(claims, reason="x", reference="y", actor=RECORDS_MANAGER)
    assert blobstore.exists(content_of(claims))

    # A year later the case is over: released, the next scan queues what is due; never grants.
    actions.release_legal_hold(hold, reason="judgment final", actor=RECORDS_MANAGER)
    assert scan(day("2026-03-10")).queued == 2
    queue = pending()
    assert set(queue) == {"CLM", "DESC"}
    assert queue["CLM"].due_on == dt.date(2025, 3, 1)
    assert (queue["CLM"].trigger_kind, queue["CLM"].trigger_date) == ("lapse", dt.date(2020, 3, 1))
    assert scan(day("2026-03-11")).queued == 0  # safe to run again: nothing queued twice

    # Between queueing and approval the description alone is held: approval leaves it alone.
    description_hold = actions.place_legal_hold(
        dossier, document=description, reason="evidence", reference="Appeal T 9/26", actor=REGISTRY
    )
    outcome = approve_disposition([queue["CLM"].pk, queue["DESC"].pk], actor=RECORDS_MANAGER)
    assert (outcome.disposed, outcome.held) == ([queue["CLM"].pk], [queue["DESC"].pk])

    # The claims are gone: content out of the blob store, tombstone and audit kept.
    assert not blobstore.exists(content_of(claims))
    tombstone = Version.objects.get(document=claims, number=1)
    assert tombstone.expunged_at is not None
    assert tombstone.expunge_reason.startswith("retention period ended")
    claims.refresh_from_db()
    assert claims.expunged_at is not None
    assert AuditEvent.objects.filter(action="document.expunge", object_id=claims.id).exists()
    assert AuditEvent.objects.filter(action="retention.dispose", object_id=claims.id).exists()
    assert Event.objects.filter(kind=EventKind.DOCUMENT_EXPUNGED, document_id=claims.id).exists()
    # The held description and the permanent grant keep their content.
    assert blobstore.exists(content_of(description))
    assert blobstore.exists(content_of(grant))
    assert DispositionItem.objects.get(pk=queue["DESC"].pk).state == DispositionState.WITHDRAWN

    # Released again, the description comes back to the queue, and goes.
    actions.release_legal_hold(description_hold, reason="appeal decided", actor=REGISTRY)
    assert scan(day("2026-04-01")).queued == 1
    (item,) = pending().values()
    assert approve_disposition([item.pk], actor=RECORDS_MANAGER).disposed == [item.pk]
    assert not blobstore.exists(content_of(description))
    assert approve_disposition([item.pk], actor=RECORDS_MANAGER).skipped == [item.pk]

    # Decades on, the grant is still there.
    assert scan(day("2060-01-01")).queued == 0
    assert blobstore.exists(content_of(grant))
    holds = AuditEvent.objects.filter(action__startswith="dossier.legal_hold")
    assert sorted(holds.values_list("action", flat=True)) == [
        "dossier.legal_hold",
        "dossier.legal_hold",
        "dossier.legal_hold_release",
        "dossier.legal_hold_release",
    ]


def test_a_hold_placed_after_queueing_takes_the_item_out_at_the_next_scan(case):
    dossier, documents = case
    assert scan(day("2025-03-01")).queued == 2
    actions.place_legal_hold(dossier, document=documents["CLM"], actor=REGISTRY, **COURT)
    result = scan(day("2025-03-02"))
    assert (result.queued, result.withdrawn) == (0, 1)
    assert set(pending()) == {"DESC"}
    withdrawn = DispositionItem.objects.get(state=DispositionState.WITHDRAWN)
    assert withdrawn.withdrawn_reason == "a legal hold covers the document"


def test_a_restoration_stops_the_clock_and_a_new_lapse_starts_it_again(case):
    dossier, _ = case
    actions.record_case_event(dossier, kind="restoration", date=dt.date(2021, 1, 5), actor=REGISTRY)
    assert scan(day("2025-03-01")).queued == 0
    actions.record_case_event(dossier, kind="lapse", date=dt.date(2023, 3, 1), actor=REGISTRY)
    assert scan(day("2028-02-28")).queued == 0
    assert scan(day("2028-03-01")).queued == 2


def test_a_rule_edited_in_the_admin_moves_the_due_day_and_withdraws_what_is_no_longer_due(case):
    assert scan(day("2025-03-01")).queued == 2
    default = RetentionRule.objects.get(ip_type="", doc_type=None)
    default.years = 10
    default.save()
    result = scan(day("2025-03-02"))
    assert (result.queued, result.withdrawn) == (0, 2)
    assert scan(day("2030-03-01")).queued == 2


def test_the_sweep_hook_scans_once_a_day(case, settings):
    assert scan_when_due(day("2025-03-01")) == 2
    assert scan_when_due(day("2025-03-01") + dt.timedelta(hours=23)) == 0  # not again today
    assert RetentionScan.objects.count() == 1
    assert scan_when_due(day("2025-03-02") + dt.timedelta(hours=1)) == 0  # ran; nothing new
    assert RetentionScan.objects.count() == 2


def test_approval_is_bounded_by_the_batch_size(case, settings):
    settings.EDMS_DISPOSITION_BATCH = 1
    scan(day("2025-03-01"))
    ids = [item.pk for item in pending().values()]
    with pytest.raises(actions.InvalidChange, match="at most 1"):
        approve_disposition(ids, actor=RECORDS_MANAGER)
    assert len(pending()) == 2


def test_an_approval_interrupted_midway_is_taken_up_by_the_next_scan(case):
    scan(day("2025-03-01"))
    queue = pending()
    # An approval's process died after claiming both and expunging the claims only.
    claimed = day("2025-03-02")
    DispositionItem.objects.update(state=DispositionState.DISPOSING, decided_at=claimed)
    actions.expunge_document(
        queue["CLM"].document, reason="retention", reference="item", actor=RECORDS_MANAGER
    )
    scan(claimed + dt.timedelta(minutes=30))  # may still be running: left alone
    assert pending() == {}
    scan(claimed + dt.timedelta(hours=2))
    assert DispositionItem.objects.get(pk=queue["CLM"].pk).state == DispositionState.DISPOSED
    assert set(pending()) == {"DESC"}
