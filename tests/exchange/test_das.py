"""DAS in both roles against the fake DAS (its own process): one edms acting as both offices.

Each request is driven step by step through `progress.advance` with a clock moved past every
wait, as its task would run it; the fake settles requests after 0.1 s.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time

import pytest
from django.utils import timezone

from dossier import blobstore
from dossier.audit import Actor
from dossier.models import AuditEvent, Event, EventKind
from exchange.das import progress, submit
from exchange.das.client import DasClient, DasRefused, forget_tokens
from exchange.das.models import OPEN_STATES, DasRequest, Role, State
from tests.conftest import create_dossier, file_document
from tests.exchange.conftest import OFFICE_A, PRIORITY_PDF, start_fake_das, stop_fake_das
from tests.services import wait_until

pytestmark = pytest.mark.django_db
ACTOR = Actor(label="examiner")


def drive(request: DasRequest, *, steps: int = 60) -> DasRequest:
    """Advance the request until it settles, as its task would (the clock jumps past waits)."""
    clock = timezone.now()
    for _ in range(steps):
        request.refresh_from_db()
        if request.state not in OPEN_STATES:
            return request
        clock += dt.timedelta(hours=2)
        progress.advance(request.pk, now=clock)
        time.sleep(0.05)
    pytest.fail(f"the DAS request did not settle: {request.state} {request.last_error}")


def content_of(document) -> bytes:
    version = document.versions.get(number=document.latest_version)
    return b"".join(blobstore.read_verified(version.blob_id, version.blob.size))


def register(key: str = "BG/P/2025/000101", access_code: str = "") -> DasRequest:
    dossier = create_dossier(key, filing_date=dt.date(2025, 1, 15))
    priority = file_document(
        dossier, PRIORITY_PDF.read_bytes(), type_code="PRIO", filename="priority.pdf"
    )
    request = submit.request_registration(dossier, priority, actor=ACTOR, access_code=access_code)
    return drive(request)


def audit_actions(key: str) -> list[str]:
    rows = AuditEvent.objects.filter(dossier_key=key, action__startswith="das.")
    return list(rows.order_by("id").values_list("action", flat=True))


def test_registration_keeps_access_code_and_certificate_on_the_dossier(office_a):
    registration = register(access_code="q7k2")
    assert registration.state == State.SUCCEEDED, registration.last_error
    assert registration.role == Role.OFF
    assert registration.access_code == "Q7K2"
    assert registration.das_request_id.startswith("req-")
    assert registration.available_from == dt.date.today()
    certificate = registration.certificate
    assert certificate.doc_type_id == "RCPT" and certificate.channel == "das"
    assert content_of(certificate).startswith(b"%PDF-")
    assert audit_actions(registration.dossier.key) == [
        "das.registration.requested",
        "das.registration.sent",
        "das.registration.succeeded",
    ]
    assert Event.objects.filter(
        kind=EventKind.DOCUMENT_REGISTERED, document_id=certificate.id
    ).exists()


def test_retrieval_files_the_registered_bytes_as_prio_channel_das(office_a):
    registration = register()
    second = create_dossier("BG/P/2025/000202")
    retrieval = drive(
        submit.request_retrieval(
            second,
            actor=ACTOR,
            document_number=registration.document_number,
            access_code=registration.access_code,
            document_date=registration.document_date,
        )
    )
    assert retrieval.state == State.SUCCEEDED, retrieval.last_error
    filed = retrieval.document
    assert (filed.dossier_id, filed.doc_type_id, filed.channel) == (second.id, "PRIO", "das")
    original = PRIORITY_PDF.read_bytes()
    assert content_of(filed) == original
    event = Event.objects.get(kind=EventKind.DOCUMENT_REGISTERED, document_id=filed.id)
    assert event.payload["sha256"] == hashlib.sha256(original).hexdigest()
    assert audit_actions(second.key) == [
        "das.retrieval.requested",
        "das.retrieval.sent",
        "das.retrieval.succeeded",
    ]


def test_a_wrong_access_code_fails_the_retrieval_with_das_reason(office_a):
    registration = register(access_code="AB23")
    second = create_dossier("BG/P/2025/000203")
    retrieval = drive(
        submit.request_retrieval(
            second, actor=ACTOR, document_number=registration.document_number, access_code="ZZ99"
        )
    )
    assert (retrieval.state, retrieval.error_code) == (State.FAILED, "WRONG_ACCESS_CODE")
    assert "access code" in retrieval.last_error
    assert not second.documents.exists()
    failed = AuditEvent.objects.get(dossier_key=second.key, action="das.retrieval.failed")
    assert failed.detail["error_code"] == "WRONG_ACCESS_CODE"


def test_a_withdrawn_document_can_no_longer_be_retrieved(office_a):
    registration = register()
    withdrawal = drive(submit.request_withdrawal(registration, actor=ACTOR))
    assert withdrawal.state == State.SUCCEEDED, withdrawal.last_error
    registration.refresh_from_db()
    assert registration.state == State.WITHDRAWN
    second = create_dossier("BG/P/2025/000204")
    retrieval = drive(
        submit.request_retrieval(
            second,
            actor=ACTOR,
            document_number=registration.document_number,
            access_code=registration.access_code,
        )
    )
    assert (retrieval.state, retrieval.error_code) == (State.FAILED, "DOCUMENT_WITHDRAWN")
    with pytest.raises(submit.InvalidChange, match="only a registration that succeeded"):
        submit.request_withdrawal(registration, actor=ACTOR)


def test_service_unavailable_is_retried_with_backoff_then_succeeds(office_a):
    dossier = create_dossier("BG/P/2025/000105", filing_date=dt.date(2025, 2, 1))
    priority = file_document(dossier, PRIORITY_PDF.read_bytes(), type_code="PRIO")
    request = submit.request_registration(dossier, priority, actor=ACTOR)
    office_a.control("unavailable", {"count": 2})
    now = timezone.now()
    waits = [progress.advance(request.pk, now=now + dt.timedelta(hours=h)) for h in (1, 2)]
    request.refresh_from_db()
    assert (request.state, request.attempts) == (State.QUEUED, 2)
    assert "503" in request.last_error
    # 30 s, then 60 s, each ±20 %.
    assert 24 <= waits[0] <= 36 and 48 <= waits[1] <= 72
    assert drive(request).state == State.SUCCEEDED


def test_das_down_for_good_fails_the_request_after_the_last_attempt(office_a, settings):
    settings.EDMS_DAS_MAX_ATTEMPTS = 3
    office_a.control("unavailable", {"count": 10})
    second = create_dossier("BG/P/2025/000206")
    request = drive(
        submit.request_retrieval(second, actor=ACTOR, document_number="X/1", access_code="AAAA")
    )
    assert (request.state, request.error_code, request.attempts) == (State.FAILED, "gave_up", 3)
    office_a.control("unavailable", {"count": 0})


def test_tokens_are_cached_and_fetched_again_when_refused(office_a):
    before = office_a.control("stats")["tokensIssued"]
    register("BG/P/2025/000107")
    assert office_a.control("stats")["tokensIssued"] == before + 1  # one token for every call
    office_a.control("revoke-tokens", {})
    register("BG/P/2025/000108")
    assert office_a.control("stats")["tokensIssued"] == before + 2


def test_the_notification_makes_the_next_poll_due_at_once(office_a):
    dossier = create_dossier("BG/P/2025/000109", filing_date=dt.date(2025, 3, 1))
    priority = file_document(dossier, PRIORITY_PDF.read_bytes(), type_code="PRIO")
    request = submit.request_registration(dossier, priority, actor=ACTOR)
    progress.advance(request.pk)  # sent: the next poll is a minute away
    request.refresh_from_db()
    assert request.state == State.PENDING
    assert progress.advance(request.pk) is None  # not due
    wait_until(
        lambda: DasClient().status(request.das_request_id).category == "success",
        timeout=10,
        what="the fake DAS to settle the registration",
    )
    assert progress.notified(request.das_request_id) == request
    progress.advance(request.pk)
    request.refresh_from_db()
    assert request.state == State.SUCCEEDED


def test_requests_are_refused_when_das_is_not_configured(settings, db):
    settings.EDMS_DAS_URL = ""
    dossier = create_dossier("BG/P/2025/000110")
    with pytest.raises(submit.DasNotConfiguredError):
        submit.request_retrieval(dossier, actor=ACTOR, document_number="X", access_code="A")


def test_a_token_is_fetched_again_shortly_before_it_expires(settings):
    fake = start_fake_das("--token-lifetime", "61")  # cached for 1 s: 60 s are the margin
    try:
        settings.EDMS_DAS_URL = fake.url
        settings.EDMS_DAS_TOKEN_URL = f"{fake.url}/oauth2/token"
        settings.EDMS_DAS_CLIENT_ID, settings.EDMS_DAS_CLIENT_SECRET = OFFICE_A
        forget_tokens()
        client = DasClient()
        for _ in range(3):
            with pytest.raises(DasRefused) as refused:
                client.status("req-unknown")
            assert refused.value.status == 404  # past the token check
        assert fake.control("stats")["tokensIssued"] == 1
        time.sleep(1.2)
        with pytest.raises(DasRefused):
            client.status("req-unknown")
        assert fake.control("stats")["tokensIssued"] == 2
    finally:
        forget_tokens()
        stop_fake_das(fake)
