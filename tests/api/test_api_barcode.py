"""A registered document's barcode: the payload of its cover sheet or reception receipt, in the
scanning sheets' format, and the printable sheet that carries it."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from scanning.coversheets import SheetData, decode
from scanning.models import PartState
from scanning.pages import read_page, render
from scanning.readings import Kind
from tests import scan_support as scan
from tests.conftest import create_dossier

DOCUMENTS_URL = "/api/v1/dossiers/BG/P/2024/000123/documents"


def register(client, **fields):
    body = {"file": SimpleUploadedFile("a.txt", b"claims", content_type="text/plain")}
    return client.post(DOCUMENTS_URL, body | fields, format="multipart")


@pytest.mark.django_db
def test_registration_returns_a_barcode_scanning_reads_as_the_documents_sheet(registry):
    create_dossier()
    response = register(registry, type="REQ", official_date="2024-03-01", title="A | title")
    assert response.status_code == 201, response.content
    body = response.json()
    barcode = body["barcode"]
    assert barcode == f"EDMS1|BG/P/2024/000123|REQ|2024-03-01||{body['id']}"
    sheet = decode(barcode)
    assert sheet == SheetData("BG/P/2024/000123", "REQ", sheet.official_date, "", body["id"])
    assert sheet.official_date.isoformat() == "2024-03-01"
    assert not sheet.is_separator

    detail = registry.get(f"/api/v1/documents/{body['id']}").json()
    assert detail["barcode"] == barcode
    assert detail["cover_sheet_url"] == f"/api/v1/documents/{body['id']}/cover-sheet"


@pytest.mark.django_db
def test_the_cover_sheet_pdf_is_read_by_scanning_as_the_registered_barcode(registry, public):
    create_dossier()
    body = register(registry, type="CLM").json()
    response = registry.get(f"/api/v1/documents/{body['id']}/cover-sheet")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    pdf = pdfium.PdfDocument(response.content)
    assert len(pdf) == 1
    reading = read_page(render(pdf, 0))
    assert reading.kind == Kind.SHEET
    assert reading.sheet == decode(body["barcode"])
    assert reading.sheet.document == body["id"]
    # An internal document is nobody's business outside: its sheet is not found either.
    assert public.get(f"/api/v1/documents/{body['id']}/cover-sheet").status_code == 404


def test_a_plain_cover_sheet_payload_still_decodes_without_a_document():
    sheet = decode("EDMS1|BG/P/2024/000123|CLM||T")
    assert (sheet.dossier, sheet.type_code, sheet.title, sheet.document) == (
        "BG/P/2024/000123",
        "CLM",
        "T",
        "",
    )


@pytest.mark.django_db
def test_scanned_in_front_of_paper_the_documents_sheet_routes_it_to_its_dossier(registry):
    create_dossier()
    body = register(registry, type="REQ", official_date="2024-03-01").json()
    sheet_pdf = registry.get(f"/api/v1/documents/{body['id']}/cover-sheet").content
    printed = render(pdfium.PdfDocument(sheet_pdf), 0, dpi=300)
    batch = scan.split_now(
        scan.batch_pdf([scan.scanned(printed, skew=1.5), scan.text_page("the paper original")])
    )
    [part] = batch.parts.all()
    assert (part.state, part.dossier_key, part.type_code) == (
        PartState.QC,
        "BG/P/2024/000123",
        "REQ",
    )
    assert part.official_date.isoformat() == "2024-03-01"
    assert part.source_pages == [2]


@pytest.mark.django_db
def test_registration_and_cover_sheet_conform_to_the_openapi_schema(registry, public, conforms):
    create_dossier()
    registered = register(registry, type="REQ", official_date="2024-03-01")
    assert registered.status_code == 201
    body = conforms(registered, "/api/v1/dossiers/{key}/documents")
    assert body["barcode"].startswith("EDMS1|BG/P/2024/000123|REQ|")
    template = "/api/v1/documents/{document_id}/cover-sheet"
    sheet = registry.get(f"/api/v1/documents/{body['id']}/cover-sheet")
    assert sheet.status_code == 200
    assert conforms(sheet, template) is None  # the PDF
    hidden = public.get(f"/api/v1/documents/{body['id']}/cover-sheet")
    assert conforms(hidden, template)["type"] == "/api/v1/problems/unknown-document"
    unknown_type = register(registry, type="NOPE")
    assert conforms(unknown_type, "/api/v1/dossiers/{key}/documents")["status"] == 400
