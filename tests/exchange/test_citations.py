"""Search-report citations: written through the edms API in ST.96's shape, read back, audited as
a change of the dossier, and served by CASE's `applications/citations`."""

from __future__ import annotations

import datetime as dt

import pytest

from dossier.models import AuditEvent
from tests.api.test_problems import assert_problem
from tests.conftest import create_dossier
from tests.exchange.case_support import case_client

KEY = "BG/P/2024/000123"
URL = f"/api/v1/dossiers/{KEY}/citations"

PATENT = {
    "patentCitation": {
        "citedPatentDocumentIdentification": {
            "ipOfficeCode": "ep",
            "documentNumber": "1234567",
            "patentDocumentKindCode": "A1",
            "patentDocumentDate": "2019-05-02",
        }
    },
    "citationCategoryCodes": ["X", "Y"],
    "patentClaimRange": "1-3, 7",
    "citedPassageBag": ["paragraphs [0012]-[0020]", "figure 2"],
}
NPL = {
    "nplCitation": {"nplCitationText": "J. Smith, Widgets, Journal of Handles 12 (2001) 3-9"},
    "citationCategoryCodes": ["A"],
}

pytestmark = pytest.mark.django_db


def test_an_examiner_records_citations_and_reads_them_back(examiner):
    dossier = create_dossier(KEY, published_at=dt.date(2024, 9, 1))
    first = examiner.post(URL, PATENT, format="json")
    assert first.status_code == 201, first.content
    expected = {
        **PATENT,
        "patentCitation": {
            "citedPatentDocumentIdentification": {
                **PATENT["patentCitation"]["citedPatentDocumentIdentification"],
                "ipOfficeCode": "EP",
            }
        },
    }
    assert first.json() == expected
    assert examiner.post(URL, NPL, format="json").status_code == 201
    read = examiner.get(URL)
    assert read.status_code == 200
    assert read.json() == [expected, {**NPL, "patentClaimRange": None, "citedPassageBag": []}]
    audited = AuditEvent.objects.filter(
        action="dossier.citation_recorded", dossier_key=dossier.key
    ).order_by("at", "id")
    assert audited.count() == 2
    assert audited.first().actor_label == "erika"
    assert audited.first().detail["categories"] == ["X", "Y"]

    _, caller = case_client()
    served = caller.get("/api/v1/case/applications/citations", {"applicationIdentifier": KEY})
    assert served.status_code == 200
    assert served.json()["referenceCitationBag"] == read.json()


def test_bad_citations_are_refused_with_problems(examiner):
    create_dossier(KEY)
    both = {**PATENT, **NPL}
    assert_problem(examiner.post(URL, both, format="json"), 400, "validation-error")
    neither = {"citationCategoryCodes": ["X"]}
    assert_problem(examiner.post(URL, neither, format="json"), 400, "validation-error")
    category = {**NPL, "citationCategoryCodes": ["Q"]}
    assert_problem(examiner.post(URL, category, format="json"), 400, "validation-error")
    office = {
        **PATENT,
        "patentCitation": {
            "citedPatentDocumentIdentification": {"ipOfficeCode": "EPO", "documentNumber": "1"}
        },
    }
    assert_problem(examiner.post(URL, office, format="json"), 400, "validation-error")
    assert not AuditEvent.objects.filter(action="dossier.citation_recorded").exists()


def test_only_examiners_and_the_registry_record_citations(public, records_clerk, registry):
    create_dossier(KEY)
    assert_problem(public.post(URL, NPL, format="json"), 401, "not-authenticated")
    assert_problem(records_clerk.post(URL, NPL, format="json"), 403, "forbidden")
    assert registry.post(URL, NPL, format="json").status_code == 201
    unknown = "/api/v1/dossiers/BG/P/2024/999999/citations"
    assert_problem(registry.post(unknown, NPL, format="json"), 404, "unknown-dossier")


def test_a_retried_write_with_its_idempotency_key_records_the_citation_once(examiner):
    create_dossier(KEY)
    first = examiner.post(URL, NPL, format="json", HTTP_IDEMPOTENCY_KEY="sr-2024-1")
    again = examiner.post(URL, NPL, format="json", HTTP_IDEMPOTENCY_KEY="sr-2024-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert len(examiner.get(URL).json()) == 1
