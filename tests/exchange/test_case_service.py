"""The CASE providing service as another office's examiner meets it: `doclists`, content by
`documentLocationURI`, `applications/citations`; only shareable documents of published dossiers,
every field name as EXCHANGE.md publishes it."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.http import StreamingHttpResponse

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import AuditEvent
from exchange.case.citations import record_citation
from tests.api.test_problems import assert_problem
from tests.conftest import create_dossier, file_document
from tests.exchange.case_support import case_client, case_field_names, keys_of
from tests.redaction_support import text_pdf

KEY = "BG/P/2024/000123"
DOCLISTS = "/api/v1/case/doclists"
CITATIONS = "/api/v1/case/applications/citations"

pytestmark = pytest.mark.django_db


@pytest.fixture
def published():
    """A published patent dossier with papers of every kind of visibility."""
    dossier = create_dossier(KEY, published_at=dt.date(2024, 9, 1), language="en")
    claims_pdf = text_pdf("1. A widget.")
    claims = file_document(
        dossier,
        claims_pdf,
        filename="claims.pdf",
        type_code="CLM",
        official_date=dt.date(2024, 3, 1),
        registry_id="D-7",
    )
    report = file_document(
        dossier,
        text_pdf("Search report"),
        filename="sr.pdf",
        type_code="SR",
        official_date=dt.date(2024, 6, 1),
    )
    translation = file_document(
        dossier,
        text_pdf("Traduction"),
        filename="tr.pdf",
        type_code="TRANS",
        official_date=dt.date(2024, 4, 1),
        language="fr",
    )
    hidden = [
        file_document(
            dossier, text_pdf("x"), filename="d.pdf", type_code="DESC", visibility="confidential"
        ),
        file_document(dossier, text_pdf("x"), filename="n.pdf", type_code="SRCH-NOTE"),
        file_document(dossier, text_pdf("x"), filename="f.pdf", type_code="FEE"),  # unmapped
        # Outgoing and dated in the future: not yet dispatched.
        file_document(
            dossier,
            text_pdf("x"),
            filename="oa.pdf",
            type_code="OA",
            official_date=dt.date.today() + dt.timedelta(days=3),
        ),
    ]
    return {
        "claims_pdf": claims_pdf,
        "claims": claims,
        "report": report,
        "translation": translation,
        "hidden": hidden,
    }


def test_doclists_lists_only_shared_documents_newest_first(published):
    _, caller = case_client()
    answer = caller.get(DOCLISTS, {"applicationIdentifier": "BGP2024000123"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    number_text = published["claims"].dossier.key.removeprefix("BG/")  # padded as configured
    assert body["applicationNumber"] == {"ipOfficeCode": "BG", "applicationNumberText": number_text}
    assert body["sorting"] == "documentDate:desc"
    listed = [item["documentIncluded"] for item in body["documentIncludedBag"]]
    assert [doc["id"] for doc in listed] == [
        str(published["report"].id),
        str(published["translation"].id),
        str(published["claims"].id),
    ]
    assert body["documentTotalQuantity"] == 3
    hidden = {str(document.id) for document in published["hidden"]}
    assert not hidden & {doc["id"] for doc in listed}
    claims = listed[2]
    assert claims["documentCodeCategory"] == "CLM"
    assert claims["documentFormatCategory"] == "pdf"
    assert claims["documentKindCategory"] == "patent"
    assert claims["documentDate"] == "2024-03-01"
    assert claims["documentNumber"] == "D-7"
    assert claims["documentOrigin"] == "incoming"
    assert claims["documentLanguageSource"] == "original"
    assert claims["languageCode"] == "en"
    assert claims["documentGroupCategory"] == ["application"]
    assert claims["documentSizeQuantity"] == len(published["claims_pdf"])
    assert listed[1]["documentLanguageSource"] == "translation"
    assert listed[1]["languageCode"] == "fr"
    assert listed[0]["documentGroupCategory"] == ["search"]


def test_every_field_name_is_one_exchange_md_publishes(published):
    _, caller = case_client()

    dossier = published["claims"].dossier
    record_citation(
        dossier,
        actor=Actor(label="tests"),
        categories=["X"],
        office_code="EP",
        document_number="1234567",
        kind_code="A1",
        document_date=dt.date(2019, 5, 2),
        claims="1-3",
        passages=["[0012]"],
    )
    record_citation(dossier, actor=Actor(label="tests"), categories=["A"], npl_text="Smith 2001")
    names = case_field_names()
    doclist = caller.get(DOCLISTS, {"applicationIdentifier": KEY}).json()
    citations = caller.get(CITATIONS, {"applicationIdentifier": KEY}).json()
    assert keys_of(doclist) - names == set()
    assert keys_of(citations) - names == set()
    # And nothing of the published list is missing from a listed document.
    documented = {
        "id",
        "languageCode",
        "sourceSystemIdentifier",
        "documentName",
        "documentDescription",
        "documentFormatCategory",
        "documentKindCategory",
        "documentCodeCategory",
        "documentDate",
        "documentLocationURI",
        "documentSizeQuantity",
        "documentPageQuantity",
        "documentNumber",
        "documentLanguageSource",
        "documentOrigin",
        "documentGroupCategory",
        "documentStatusCategory",
        "nplIndicator",
    }
    assert documented <= names
    assert set(doclist["documentIncludedBag"][0]["documentIncluded"]) == documented


def test_content_by_uri_streams_the_document_and_is_audited(published):
    client, caller = case_client("JP")
    listed = caller.get(DOCLISTS, {"applicationIdentifier": KEY}).json()["documentIncludedBag"]
    claims = next(
        i["documentIncluded"]
        for i in listed
        if i["documentIncluded"]["documentCodeCategory"] == "CLM"
    )
    answer = caller.get(claims["documentLocationURI"])
    assert answer.status_code == 200
    assert isinstance(answer, StreamingHttpResponse)  # never read whole into memory
    assert answer["Content-Type"] == "application/pdf"
    content = b"".join(answer.streaming_content)
    assert content == published["claims_pdf"]
    assert answer["ETag"] == f'"{hashlib.sha256(content).hexdigest()}"'
    download = AuditEvent.objects.filter(action="document.download").latest("at")
    assert download.object_id == claims["id"]
    assert download.actor_label == f"CASE JP {client.client_id}"


def test_documents_not_shared_are_not_served_either(published):
    _, caller = case_client()
    for document in published["hidden"]:
        answer = caller.get(f"/api/v1/case/documents/{document.id}")
        assert_problem(answer, 404, "unknown-document")


def test_unpublished_and_secret_dossiers_are_not_shared(published):
    _, caller = case_client()
    unpublished = create_dossier("BG/P/2024/000200")
    document = file_document(unpublished, text_pdf("1. A gadget."), filename="c.pdf")
    secret = create_dossier("BG/P/2024/000300", published_at=dt.date(2024, 1, 1), secret=True)
    hush = file_document(secret, text_pdf("1. A secret."), filename="c.pdf")
    for key in ("BG/P/2024/000200", "BG/P/2024/000300", "BG/P/2024/999999", "nonsense"):
        assert_problem(caller.get(DOCLISTS, {"applicationIdentifier": key}), 404, "unknown-dossier")
        assert_problem(
            caller.get(CITATIONS, {"applicationIdentifier": key}), 404, "unknown-dossier"
        )
    for hidden in (document, hush):
        assert_problem(caller.get(f"/api/v1/case/documents/{hidden.id}"), 404, "unknown-document")
    assert_problem(caller.get(DOCLISTS), 400, "validation-error", field="applicationIdentifier")


def test_doclists_costs_the_same_queries_for_more_documents(
    published, django_assert_max_num_queries
):
    _, caller = case_client()
    dossier = published["claims"].dossier
    for n in range(5):
        file_document(dossier, text_pdf(f"claim {n}"), filename=f"c{n}.pdf")
    with django_assert_max_num_queries(12):
        answer = caller.get(DOCLISTS, {"applicationIdentifier": KEY})
    assert answer.json()["documentTotalQuantity"] == 8


def test_a_document_requiring_redaction_is_shared_only_as_its_redacted_copy(published):
    _, caller = case_client()
    claims = published["claims"]
    actions.update_document(claims, {"redaction_required": True}, actor=Actor(label="tests"))
    listed = caller.get(DOCLISTS, {"applicationIdentifier": KEY}).json()["documentIncludedBag"]
    assert str(claims.id) not in {item["documentIncluded"]["id"] for item in listed}
    assert_problem(caller.get(f"/api/v1/case/documents/{claims.id}"), 404, "unknown-document")

    copy = text_pdf("1. A [redacted].")
    version = claims.versions.get(number=1)
    actions.store_redacted_copy(
        version, blobstore.spool([copy], filename="r.pdf"), actor=Actor(label="tests")
    )
    listed = caller.get(DOCLISTS, {"applicationIdentifier": KEY}).json()["documentIncludedBag"]
    shared = next(
        i["documentIncluded"] for i in listed if i["documentIncluded"]["id"] == str(claims.id)
    )
    assert shared["documentSizeQuantity"] == len(copy)
    answer = caller.get(shared["documentLocationURI"])
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == copy
