"""The dossier page's DAS panel and the operations page's list of DAS requests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from dossier.audit import Actor
from dossier.roles import Role
from exchange.das import submit
from tests.conftest import create_dossier, file_document
from tests.exchange.conftest import PRIORITY_PDF
from tests.exchange.test_das import drive
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor(label="examiner")


def client_as(role: Role) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


@pytest.fixture
def exchanged(office_a):
    """A registration that succeeded, and a retrieval refused for a wrong access code."""
    first = create_dossier("BG/P/2025/000501", filing_date=dt.date(2025, 5, 5))
    priority = file_document(first, PRIORITY_PDF.read_bytes(), type_code="PRIO")
    registration = drive(submit.request_registration(first, priority, actor=ACTOR))
    second = create_dossier("BG/P/2025/000502")
    refused = drive(
        submit.request_retrieval(second, actor=ACTOR, document_number=first.key, access_code="WR0N")
    )
    return registration, refused


def test_the_dossier_page_shows_its_das_requests_and_their_state(exchanged):
    registration, _ = exchanged
    page = client_as(Role.EXAMINER).get(f"/dossiers/{registration.dossier.key}").content.decode()
    assert 'id="das-requests"' in page
    assert f'data-das-request="{registration.id}" data-state="succeeded"' in page
    assert f"<code>{registration.access_code}</code>" in page  # an examiner may file
    assert f"/documents/{registration.certificate_id}" in page

    client = client_as(Role.EXAMINER)
    client.post("/i18n/setlang/", {"language": "fr"})
    french = client.get(f"/dossiers/{registration.dossier.key}").content.decode()
    assert "Documents de priorité via WIPO DAS" in french and "Réussi" in french


def test_the_operations_page_lists_failed_das_requests(exchanged):
    registration, refused = exchanged
    page = client_as(Role.RECORDS_CLERK).get("/operations").content.decode()
    assert f'data-das-request="{refused.id}" data-state="failed"' in page
    assert "WRONG_ACCESS_CODE" in page
    assert str(registration.id) not in page  # settled: nothing to look at
    assert refused.access_code not in page  # no access codes on the operations page
