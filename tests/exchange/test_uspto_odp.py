"""USPTO-shaped public reads (`exchange.uspto_odp`): a published dossier's public file wrapper as
the USPTO Open Data Portal's `documentBag`, each document's PDF behind its `downloadUrl`.

One published patent dossier holds a document of each kind the public rule tells apart: public
PDF claims, a confidential letter, an examiner's internal note, an office action dated in the
future (not yet dispatched), a request that is published only redacted, and a text document
with no PDF form. The public must see exactly the first, the redacted one and the text one."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import AuditEvent
from tests.conftest import create_dossier, file_document
from tests.redaction_support import text_pdf

pytestmark = pytest.mark.django_db

KEY = "BG/P/2024/123"
NUMBER = "24000123"
DOCUMENTS = f"/api/v1/patent/applications/{NUMBER}/documents"
CLAIMS = text_pdf("1. A widget with a handle.")
SECRET = "Zanzibarov"
REQUEST = text_pdf(f"Applicant {SECRET}, Sofia")
REQUEST_REDACTED = text_pdf("Applicant [redacted]")
ODP_FIELDS = {
    "applicationNumberText",
    "officialDate",
    "documentIdentifier",
    "documentCode",
    "documentCodeDescriptionText",
    "documentDirectionCategory",
    "downloadOptionBag",
}
ACTOR = Actor(label="tests")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def problem_type(response) -> str:
    assert response["Content-Type"] == "application/problem+json", response.content
    return response.json()["type"].rsplit("/", 1)[-1]


@pytest.fixture
def wrapper(db):
    """The published dossier and its documents by name."""
    dossier = create_dossier(KEY, published_at=dt.date(2024, 6, 1))
    claims = file_document(
        dossier, CLAIMS, type_code="CLM", filename="claims.pdf", visibility="public"
    )
    confidential = file_document(
        dossier, text_pdf("fee data"), type_code="LETTER", visibility="confidential"
    )
    note = file_document(dossier, b"examiner's note", type_code="SRCH-NOTE", filename="n.txt")
    future_action = file_document(
        dossier,
        text_pdf("Office action"),
        type_code="OA",
        filename="oa.pdf",
        visibility="public",
        official_date=timezone.localdate() + dt.timedelta(days=3),
    )
    request = file_document(
        dossier, REQUEST, type_code="REQ", filename="request.pdf", visibility="public"
    )
    actions.update_document(request, {"redaction_required": True}, actor=ACTOR)
    staged = blobstore.spool([REQUEST_REDACTED], filename="request.redacted.pdf")
    actions.store_redacted_copy(request.versions.get(number=1), staged, actor=ACTOR)
    text = file_document(
        dossier,
        b"Amended claims, as text",
        type_code="AMD",
        filename="amd.txt",
        visibility="public",
        official_date=dt.date(2024, 7, 2),
    )
    return {
        "dossier": dossier,
        "claims": claims,
        "confidential": confidential,
        "note": note,
        "future_action": future_action,
        "request": request,
        "text": text,
    }


def test_the_bag_lists_what_the_public_sees_in_the_odp_field_names(public, wrapper):
    response = public.get(DOCUMENTS)
    assert response.status_code == 200, response.content
    answer = response.json()
    listed = {entry["documentIdentifier"]: entry for entry in answer["documentBag"]}
    expected = {str(wrapper[name].id) for name in ("claims", "request", "text")}
    assert set(listed) == expected and answer["count"] == 3
    for entry in listed.values():
        assert set(entry) == ODP_FIELDS
        assert entry["applicationNumberText"] == NUMBER
        assert entry["documentDirectionCategory"] == "INCOMING"

    claims = listed[str(wrapper["claims"].id)]
    assert claims["documentCode"] == "CLM"
    assert claims["documentCodeDescriptionText"]
    assert claims["officialDate"] == "2024-03-01T00:00:00.000+0000"
    [option] = claims["downloadOptionBag"]
    assert option["mimeTypeIdentifier"] == "PDF"
    # Both names of the field: the published data dictionary's and the live service's.
    assert option["downloadURI"] == option["downloadUrl"]
    assert option["downloadUrl"] == (
        f"http://testserver/api/v1/download/applications/{NUMBER}/{wrapper['claims'].id}.pdf"
    )
    assert listed[str(wrapper["request"].id)]["documentCode"] == "ADS"
    # A text document has no PDF form (yet): listed, with nothing to download.
    assert listed[str(wrapper["text"].id)]["downloadOptionBag"] == []


def test_a_pdf_downloads_as_stored_and_is_audited(public, wrapper):
    answer = public.get(DOCUMENTS).json()
    claims = next(
        entry
        for entry in answer["documentBag"]
        if entry["documentIdentifier"] == str(wrapper["claims"].id)
    )
    url = claims["downloadOptionBag"][0]["downloadUrl"].removeprefix("http://testserver")
    response = public.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert sha256(body(response)) == sha256(CLAIMS)
    assert response["ETag"] == f'"{sha256(CLAIMS)}"'
    audit = AuditEvent.objects.filter(
        action="document.download", object_id=str(wrapper["claims"].id)
    )
    assert audit.count() == 1


def test_a_redacted_document_downloads_as_its_redacted_copy(public, wrapper):
    request = wrapper["request"]
    response = public.get(f"/api/v1/download/applications/{NUMBER}/{request.id}.pdf")
    assert response.status_code == 200
    content = body(response)
    assert sha256(content) == sha256(REQUEST_REDACTED) and SECRET.encode() not in content
    audit = AuditEvent.objects.get(action="document.download", object_id=str(request.id))
    assert audit.detail["rendition"] == "redacted"


@pytest.mark.parametrize("name", ["confidential", "note", "future_action", "text"])
def test_what_has_no_public_pdf_is_not_found(public, wrapper, name):
    document = wrapper[name]
    response = public.get(f"/api/v1/download/applications/{NUMBER}/{document.id}.pdf")
    assert response.status_code == 404 and problem_type(response) == "unknown-document"


def test_a_document_of_another_dossier_is_not_found_under_this_one(public, wrapper):
    other = create_dossier("BG/P/2024/124", published_at=dt.date(2024, 6, 1))
    elsewhere = file_document(other, CLAIMS, filename="claims.pdf", visibility="public")
    response = public.get(f"/api/v1/download/applications/{NUMBER}/{elsewhere.id}.pdf")
    assert response.status_code == 404
    own = public.get(f"/api/v1/download/applications/24000124/{elsewhere.id}.pdf")
    assert own.status_code == 200


@pytest.mark.parametrize("number", [NUMBER, "24/000123", KEY, "BG/P/2024/000123"])
def test_every_form_of_the_number_names_the_dossier(public, wrapper, number):
    response = public.get(f"/api/v1/patent/applications/{number}/documents")
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 3


def test_unknown_unpublished_secret_and_unmapped_applications_are_not_found(public, wrapper):
    create_dossier("BG/P/2024/200")  # not published
    create_dossier("BG/P/2024/201", published_at=dt.date(2024, 6, 1), secret=True)
    create_dossier("BG/U/2024/202", published_at=dt.date(2024, 6, 1))  # a utility model
    for number in ["24000200", "24000201", "24000202", "24999999", "nonsense", "BG/P/2024/200"]:
        response = public.get(f"/api/v1/patent/applications/{number}/documents")
        assert response.status_code == 404, number
        assert problem_type(response) == "unknown-dossier"
    # The utility model is still read by its own file number, and says so.
    answer = public.get("/api/v1/patent/applications/BG/U/2024/202/documents").json()
    assert answer == {"count": 0, "documentBag": []}


def test_the_office_and_file_type_are_configured(public, wrapper, settings):
    settings.EDMS_ODP_OFFICE = "RO"
    assert public.get(DOCUMENTS).status_code == 404
    settings.EDMS_ODP_OFFICE = "BG"
    assert public.get(DOCUMENTS).status_code == 200
    settings.EDMS_ODP_FILE_TYPE = "U"
    assert public.get(DOCUMENTS).status_code == 404
    # Its own number still names it; the bag then names it by its file number.
    answer = public.get(f"/api/v1/patent/applications/{KEY}/documents").json()
    assert {entry["applicationNumberText"] for entry in answer["documentBag"]} == {KEY}
    # ... and so do its download URIs, slashes and all.
    claims = next(e for e in answer["documentBag"] if e["documentCode"] == "CLM")
    url = claims["downloadOptionBag"][0]["downloadUrl"]
    assert url == f"http://testserver/api/v1/download/applications/{KEY}/{wrapper['claims'].id}.pdf"
    assert sha256(body(public.get(url))) == sha256(CLAIMS)


def test_filters_as_the_odp_filters(public, wrapper):
    def listed(**params) -> set[str]:
        response = public.get(DOCUMENTS, params)
        assert response.status_code == 200, response.content
        return {entry["documentIdentifier"] for entry in response.json()["documentBag"]}

    assert listed(documentCodes="CLM,ADS") == {
        str(wrapper["claims"].id),
        str(wrapper["request"].id),
    }
    assert listed(officialDateFrom="2024-07-01") == {str(wrapper["text"].id)}
    assert listed(officialDateTo="2024-07-01") == {
        str(wrapper["claims"].id),
        str(wrapper["request"].id),
    }
    response = public.get(DOCUMENTS, {"officialDateFrom": "July"})
    assert response.status_code == 400 and response.json()["field"] == "officialDateFrom"


def test_an_integrated_systems_key_reads_no_more_than_the_public(examiner, wrapper):
    response = examiner.get(DOCUMENTS)
    assert response.status_code == 200 and response.json()["count"] == 3
    note = examiner.get(f"/api/v1/download/applications/{NUMBER}/{wrapper['note'].id}.pdf")
    assert note.status_code == 404


def test_the_api_key_header_is_ignored_unless_the_office_lists_keys(public, wrapper, settings):
    assert public.get(DOCUMENTS, HTTP_X_API_KEY="anything").status_code == 200
    settings.EDMS_ODP_API_KEYS = ["k-one", "k-two"]
    missing = public.get(DOCUMENTS)
    assert missing.status_code == 401 and problem_type(missing) == "not-authenticated"
    wrong = public.get(DOCUMENTS, HTTP_X_API_KEY="k-three")
    assert wrong.status_code == 401 and problem_type(wrong) == "authentication-failed"
    assert public.get(DOCUMENTS, HTTP_X_API_KEY="k-two").status_code == 200
    claims = wrapper["claims"]
    url = f"/api/v1/download/applications/{NUMBER}/{claims.id}.pdf"
    assert public.get(url).status_code == 401
    assert public.get(url, HTTP_X_API_KEY="k-one").status_code == 200


def test_the_listing_costs_the_same_queries_for_many_documents(
    public, wrapper, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8) as few:
        public.get(DOCUMENTS)
    for n in range(10):
        file_document(
            wrapper["dossier"], text_pdf(f"page {n}"), filename=f"d{n}.pdf", visibility="public"
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert public.get(DOCUMENTS).json()["count"] == 13
