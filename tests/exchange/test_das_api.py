"""The DAS endpoints: start, list, withdraw, and DAS's notification (answered 204)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dossier.models import AuditEvent
from exchange.das.models import DasRequest, State
from tests.conftest import create_dossier, file_document
from tests.exchange.conftest import NOTIFY_TOKEN, PRIORITY_PDF
from tests.exchange.test_das import drive

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def url(key: str) -> str:
    return f"/api/v1/dossiers/{key}/das-requests"


@pytest.fixture
def first_filing(db):
    dossier = create_dossier("BG/P/2025/000301", filing_date=dt.date(2025, 4, 1))
    priority = file_document(dossier, PRIORITY_PDF.read_bytes(), type_code="PRIO")
    return dossier, priority


def test_a_registration_starts_at_once_and_is_listed_with_its_state(
    office_a, examiner, public, first_filing
):
    dossier, priority = first_filing
    answer = examiner.post(
        url(dossier.key), {"operation": "registration", "document": str(priority.id)}, format="json"
    )
    assert answer.status_code == 202, answer.content
    started = answer.json()
    assert (started["state"], started["role"], started["document_number"]) == (
        "queued",
        "OFF",
        dossier.key,
    )
    assert len(started["access_code"]) == 4
    assert AuditEvent.objects.filter(
        action="das.registration.requested", object_id=started["id"], actor_label="erika"
    ).exists()

    drive(DasRequest.objects.get(pk=started["id"]))
    listed = examiner.get(url(dossier.key)).json()
    assert [(row["id"], row["state"]) for row in listed["results"]] == [
        (started["id"], "succeeded")
    ]
    assert listed["results"][0]["certificate"] is not None
    assert public.get(url(dossier.key)).status_code in (401, 403, 404)


def test_bad_requests_answer_problem_documents(office_a, examiner, records_clerk, first_filing):
    dossier, _ = first_filing
    missing = examiner.post(url(dossier.key), {"operation": "retrieval"}, format="json")
    assert missing.status_code == 400 and missing["Content-Type"] == PROBLEM
    assert missing.json()["field"] in ("document_number", "access_code")
    other = create_dossier("BG/P/2025/000399")
    stranger = file_document(other, b"not here")
    elsewhere = examiner.post(
        url(dossier.key), {"operation": "registration", "document": str(stranger.id)}, format="json"
    )
    assert elsewhere.status_code == 400 and elsewhere.json()["type"].endswith("invalid-change")
    assert examiner.get(url("BG/P/2025/999999")).status_code == 404


def test_a_retrieval_and_its_withdrawal_refused_until_registered(office_a, examiner, first_filing):
    dossier, _ = first_filing
    answer = examiner.post(
        url(dossier.key),
        {"operation": "retrieval", "document_number": "EP 25 123456", "access_code": "9ZZ9"},
        format="json",
    )
    assert answer.status_code == 202 and answer.json()["role"] == "OSF"
    refused = examiner.post(f"/api/v1/das-requests/{answer.json()['id']}/withdrawal")
    assert refused.status_code == 400 and refused["Content-Type"] == PROBLEM


def test_das_notification_answers_204_and_makes_the_poll_due(office_a, public, first_filing):
    dossier, priority = first_filing
    request = DasRequest.objects.create(
        role="OFF",
        operation="registration",
        dossier=dossier,
        document=priority,
        state=State.PENDING,
        document_kind="patent",
        document_number=dossier.key,
        access_code="AAAA",
        das_request_id="req-known",
        requested_by="tests",
        next_attempt_at=timezone.now() + dt.timedelta(hours=1),
    )
    body = {"requestId": "req-known", "requestStatusCategory": "success"}
    wrong = public.post("/api/v1/das/notifications", body, format="json")
    assert wrong.status_code == 401 and wrong["Content-Type"] == PROBLEM
    public.credentials(HTTP_AUTHORIZATION=f"Bearer {NOTIFY_TOKEN}")
    answer = public.post("/api/v1/das/notifications", body, format="json")
    assert answer.status_code == 204
    request.refresh_from_db()
    assert request.next_attempt_at <= timezone.now()
    unknown = public.post("/api/v1/das/notifications", {"requestId": "req-x"}, format="json")
    assert unknown.status_code == 204
