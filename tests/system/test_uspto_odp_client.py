"""A USPTO Open Data Portal client from PyPI, unchanged, reads an edms office's public file wrapper.

pyUSPTO (pinned in requirements-dev.txt) is pointed at a live edms server by its own setting,
`USPTOConfig(patent_data_base_url=...)`, and asked what it asks the USPTO: the documents of
application `24000123` (edms's `BG/P/2024/123`, `exchange.uspto_odp`), then each PDF by the
`downloadUrl` it was given. Nothing of the client is patched or subclassed."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from pyUSPTO import PatentDataClient
from pyUSPTO.config import USPTOConfig
from pyUSPTO.exceptions import USPTOApiError
from pyUSPTO.models.patent_data import DirectionCategory

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import AuditEvent
from tests.conftest import create_dossier, file_document
from tests.redaction_support import text_pdf

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CLAIMS = text_pdf("1. A widget with a handle.")
REQUEST = text_pdf("Applicant Zanzibarov, Sofia")
REQUEST_REDACTED = text_pdf("Applicant [redacted]")
ACTOR = Actor(label="tests")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def wrapper():
    """A published patent dossier: public claims, a request published only redacted, and a
    confidential letter the client must never see."""
    dossier = create_dossier("BG/P/2024/123", published_at=dt.date(2024, 6, 1))
    claims = file_document(
        dossier, CLAIMS, type_code="CLM", filename="claims.pdf", visibility="public"
    )
    request = file_document(
        dossier, REQUEST, type_code="REQ", filename="request.pdf", visibility="public"
    )
    actions.update_document(request, {"redaction_required": True}, actor=ACTOR)
    staged = blobstore.spool([REQUEST_REDACTED], filename="request.redacted.pdf")
    actions.store_redacted_copy(request.versions.get(number=1), staged, actor=ACTOR)
    letter = file_document(
        dossier, text_pdf("fee data"), type_code="LETTER", visibility="confidential"
    )
    create_dossier("BG/P/2024/124")  # filed, not published
    return {"claims": claims, "request": request, "letter": letter}


def client_for(live_server, api_key: str = "any-key") -> PatentDataClient:
    # The client's own configuration: where the "USPTO" is, and the key it sends as X-API-KEY.
    config = USPTOConfig(api_key=api_key, patent_data_base_url=live_server.url)
    return PatentDataClient(config=config)


def test_the_client_reads_the_file_wrapper_and_downloads_its_pdfs(live_server, wrapper, tmp_path):
    client = client_for(live_server)
    bag = client.get_application_documents("24000123")
    by_id = {document.document_identifier: document for document in bag}
    assert set(by_id) == {str(wrapper["claims"].id), str(wrapper["request"].id)}

    claims = by_id[str(wrapper["claims"].id)]
    assert claims.application_number_text == "24000123"
    assert claims.document_code == "CLM"
    assert claims.direction_category == DirectionCategory.INCOMING
    assert claims.official_date == dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    [pdf] = claims.document_formats
    assert pdf.mime_type_identifier == "PDF" and pdf.download_url.startswith(live_server.url)

    saved = Path(client.download_document(claims, destination=str(tmp_path / "claims")))
    assert saved.name == "claims.pdf" and sha256(saved.read_bytes()) == sha256(CLAIMS)
    # The public reads the request only redacted, so that is what the client gets.
    request = by_id[str(wrapper["request"].id)]
    with client.stream_document(request) as response:
        content = b"".join(response.iter_content(chunk_size=8192))
    assert sha256(content) == sha256(REQUEST_REDACTED)

    downloads = AuditEvent.objects.filter(action="document.download")
    assert set(downloads.values_list("object_id", flat=True)) == {
        str(wrapper["claims"].id),
        str(wrapper["request"].id),
    }


def test_the_client_filters_by_document_code(live_server, wrapper):
    bag = client_for(live_server).get_application_documents("24000123", document_codes=["ADS"])
    assert [document.document_identifier for document in bag] == [str(wrapper["request"].id)]


def test_an_unpublished_application_is_not_found_to_the_client(live_server, wrapper):
    with pytest.raises(USPTOApiError) as raised:
        client_for(live_server).get_application_documents("24000124")
    assert raised.value.status_code == 404


def test_the_client_sends_the_key_an_office_requires(live_server, wrapper, settings):
    settings.EDMS_ODP_API_KEYS = ["office-issued-key"]
    with pytest.raises(USPTOApiError) as raised:
        client_for(live_server, "someone-elses-key").get_application_documents("24000123")
    assert raised.value.status_code == 401
    bag = client_for(live_server, "office-issued-key").get_application_documents("24000123")
    assert len(bag) == 2
