"""The file wrapper as the best registers have it, over Django's test client: the merged PDF of
selected documents (a bookmark per document, the reader's own form of each, audited), a sort on
every column, and pages of rows."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pikepdf
import pytest
from django.conf import settings
from django.test import Client

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import AuditEvent, Document, RenditionKind, Version
from dossier.roles import Role
from ingest.models import Processing, State
from ingest.renditions import save_rendition
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.redaction_support import text_pdf
from tests.ui_support import large_dossier

pytestmark = pytest.mark.django_db

CORPUS = Path(settings.BASE_DIR).parent / "shared" / "corpus"
# A born-digital PDF of five pages (pdf.js's own test file).
FIVE_PAGES = CORPUS / "pdf" / "851fb6bf_file_pdfjs_test.pdf"
KEY = "BG/P/2024/000321"
ORIGINAL = text_pdf("Applicant Zanzibarov, Sofia", "A widget with a handle")
REDACTED = text_pdf("Applicant [redacted]", "A widget with a handle")


def client_as(role: Role | None) -> Client:
    client = Client()
    if role is not None:
        client.force_login(UserFactory(role=role))
    return client


def merged(response) -> pikepdf.Pdf:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.streaming  # sent from the temporary file, not built in memory
    return pikepdf.open(io.BytesIO(b"".join(response.streaming_content)))


def bookmarks(pdf: pikepdf.Pdf) -> list[tuple[str, int]]:
    """Each outline entry's title and the index of the page it opens."""
    pages = {page.objgen: number for number, page in enumerate(pdf.pages)}
    with pdf.open_outline() as outline:
        return [
            (item.title, pages[item.destination[0].objgen] if item.destination else -1)
            for item in outline.root
        ]


def words(pdf: pikepdf.Pdf) -> bytes:
    """The pages' content streams (the test PDFs' text is uncompressed, unencoded)."""
    streams = []
    for page in pdf.pages:
        contents = page.Contents
        streams.extend(contents if isinstance(contents, pikepdf.Array) else [contents])
    return b"".join(stream.read_bytes() for stream in streams)


@pytest.fixture
def wrapper(tmp_path):
    """A published dossier: a public 5-page PDF and 1-page PDF letter, an internal scan whose
    PDF/A (2 pages) processing made, and a text file (no PDF form)."""
    dossier = create_dossier(KEY, title="Clock")
    actions.record_case_event(
        dossier, kind="publication", date=dt.date(2024, 1, 1), actor=Actor(label="tests")
    )
    description = file_document(
        dossier,
        FIVE_PAGES.read_bytes(),
        type_code="DESC",
        filename="description.pdf",
        title="Description",
        official_date=dt.date(2024, 1, 10),
        visibility="public",
    )
    letter = file_document(
        dossier,
        ORIGINAL,
        type_code="REQ",
        filename="request.pdf",
        title="Request",
        official_date=dt.date(2024, 1, 5),
        visibility="public",
    )
    scan = file_document(
        dossier,
        b"\x89PNG not really, the scan's original",
        type_code="DRW",
        filename="drawings.png",
        title="Drawings",
        official_date=dt.date(2024, 1, 20),
        visibility="internal",
    )
    pdfa = tmp_path / "pdfa.pdf"
    two_pages = pikepdf.new()
    two_pages.pages.extend(pikepdf.open(io.BytesIO(text_pdf("Sheet 1/2"))).pages)
    two_pages.pages.extend(pikepdf.open(io.BytesIO(text_pdf("Sheet 2/2"))).pages)
    two_pages.save(pdfa)
    save_rendition(
        scan.versions.get(number=1), RenditionKind.PDFA, str(pdfa), "application/pdf", "a.pdf"
    )
    note = file_document(
        dossier,
        b"plain words",
        filename="note.txt",
        title="Note",
        official_date=dt.date(2024, 2, 1),
    )
    return {"description": description, "letter": letter, "scan": scan, "note": note}


def post_merged(client: Client, *documents: Document):
    return client.post(f"/dossiers/{KEY}/merged.pdf", {"document": [str(d.id) for d in documents]})


def test_merged_pdf_has_every_page_and_a_bookmark_per_document(wrapper):
    pdf = merged(post_merged(client_as(Role.EXAMINER), wrapper["description"], wrapper["letter"]))
    # File-wrapper order (official date), whatever the order of the selection.
    assert len(pdf.pages) == 1 + 5
    assert bookmarks(pdf) == [
        ("2024-01-05 · REQ Request / application form · Request", 0),
        ("2024-01-10 · DESC Description · Description", 1),
    ]
    audited = AuditEvent.objects.filter(action="document.download", dossier_key="BG/P/2024/321")
    assert sorted(audited.values_list("object_id", flat=True)) == sorted(
        [str(wrapper["description"].id), str(wrapper["letter"].id)]
    )


def test_a_scan_goes_in_as_its_pdfa_and_a_document_without_pdf_is_listed(wrapper):
    pdf = merged(post_merged(client_as(Role.EXAMINER), *wrapper.values()))
    # 5 + 1 + the scan's 2-page PDF/A + a last page naming the text file left out.
    assert len(pdf.pages) == 5 + 1 + 2 + 1
    titles = [title for title, _ in bookmarks(pdf)]
    assert titles[2] == "2024-01-20 · DRW Drawings · Drawings"
    assert titles[-1] == "Not in this PDF (no PDF form)"
    assert b"2024-02-01 \xb7 CLM Claims \xb7 Note" in pdf.pages[-1].Contents.read_bytes()
    scan_read = AuditEvent.objects.get(action="document.download", object_id=wrapper["scan"].id)
    assert scan_read.detail["rendition"] == "pdfa"
    # The text file was not read, so not audited.
    assert not AuditEvent.objects.filter(
        action="document.download", object_id=wrapper["note"].id
    ).exists()


def test_a_pdf_that_cannot_be_read_is_listed_not_merged(wrapper):
    dossier = wrapper["letter"].dossier
    broken = file_document(
        dossier,
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\n%%EOF\n",
        type_code="DESC",
        filename="broken.pdf",
        title="Damaged",
        official_date=dt.date(2024, 1, 1),
    )
    pdf = merged(post_merged(client_as(Role.EXAMINER), broken, wrapper["letter"]))
    assert len(pdf.pages) == 1 + 1
    assert bookmarks(pdf) == [
        ("2024-01-05 · REQ Request / application form · Request", 0),
        ("Not in this PDF (no PDF form)", 1),
    ]
    assert b"2024-01-01 \xb7 DESC Description \xb7 Damaged" in words(pdf)
    assert not AuditEvent.objects.filter(object_id=broken.id, action="document.download").exists()


def test_the_public_gets_the_redacted_copy(wrapper):
    letter = wrapper["letter"]
    staged = blobstore.spool([REDACTED], filename="request.redacted.pdf")
    actions.store_redacted_copy(letter.versions.get(number=1), staged, actor=Actor(label="t"))
    public = merged(post_merged(client_as(None), letter, wrapper["description"]))
    assert len(public.pages) == 1 + 5
    assert b"[redacted]" in words(public) and b"Zanzibarov" not in words(public)
    read = AuditEvent.objects.get(action="document.download", object_id=letter.id)
    assert read.detail["rendition"] == "redacted"
    # Staff read the original.
    staff = merged(post_merged(client_as(Role.EXAMINER), letter))
    assert b"Zanzibarov" in words(staff)


def test_nothing_with_a_pdf_form_goes_back_with_a_message(wrapper):
    client = client_as(Role.EXAMINER)
    page = client.post(
        f"/dossiers/{KEY}/merged.pdf", {"document": [str(wrapper["note"].id)]}, follow=True
    )
    assert "None of the selected documents has a PDF form." in page.content.decode()
    empty = client.post(f"/dossiers/{KEY}/merged.pdf", follow=True)
    assert "Select at least one document" in empty.content.decode()


def test_the_public_cannot_merge_what_it_may_not_see(wrapper):
    # The scan is internal: left out silently, like in every list.
    pdf = merged(post_merged(client_as(None), wrapper["description"], wrapper["scan"]))
    assert [title for title, _ in bookmarks(pdf)] == ["2024-01-10 · DESC Description · Description"]


# --- Sorting and pages --------------------------------------------------------------------------


def row_ids(page: str) -> list[str]:
    return re.findall(r'<tr data-document="([0-9a-f-]+)"', page)


@pytest.fixture
def sortable():
    """12 documents; half have their page count only from processing (no registry count),
    which is what the file wrapper shows for uploads."""
    dossier = large_dossier("BG/P/2021/12", 12)
    for index, document in enumerate(Document.objects.filter(dossier=dossier).order_by("title")):
        if index % 2:
            Document.objects.filter(pk=document.pk).update(page_count=None)
            Version.objects.filter(document=document).update(page_count=100 + index)
    Processing.objects.filter(version__document__dossier=dossier).update(state=State.DONE)
    first = Processing.objects.filter(version__document__dossier=dossier).order_by("id")[:3]
    Processing.objects.filter(id__in=[p.id for p in first]).update(state=State.FAILED)
    return dossier


def shown_value(document: Document, column: str):
    version = document.versions.get(number=1)
    return {
        "date": document.official_date,
        "type": document.doc_type_id,
        "direction": document.direction,
        "title": document.title,
        "pages": document.page_count or version.page_count,
        "visibility": document.visibility,
        "processing": version.processing.state,
    }[column]


@pytest.mark.parametrize(
    "column", ["date", "type", "direction", "title", "pages", "visibility", "processing"]
)
def test_every_column_sorts_both_ways(sortable, column):
    client = client_as(Role.EXAMINER)
    documents = {str(d.id): d for d in Document.objects.filter(dossier=sortable)}
    for sort, descending in ((column, False), (f"-{column}", True)):
        page = client.get("/dossiers/BG/P/2021/000012", {"sort": sort}).content.decode()
        values = [shown_value(documents[i], column) for i in row_ids(page)]
        assert len(values) == 12 and len(set(values)) > 1
        assert values == sorted(values, reverse=descending), sort
        assert f'aria-sort="{"descending" if descending else "ascending"}"' in page


def test_sorting_keeps_the_filters_and_paging_keeps_both(db):
    large_dossier("BG/P/2020/230", 230)
    client = client_as(Role.EXAMINER)
    url = "/dossiers/BG/P/2020/000230"
    first = client.get(url, {"direction": "in", "sort": "-pages"}).content.decode()
    in_count = Document.objects.filter(dossier__key="BG/P/2020/230", direction="in").count()
    assert in_count > 100
    assert len(row_ids(first)) == 100 and f"{in_count} documents" in first
    # The headings sort within the filter; the pager keeps the filter and the sort.
    assert 'href="?direction=in&amp;sort=title"' in first
    assert 'href="?direction=in&amp;sort=-pages&amp;page=2"' in first
    last = client.get(url, {"direction": "in", "sort": "-pages", "page": 2}).content.decode()
    assert len(row_ids(last)) == in_count - 100
    assert not set(row_ids(first)) & set(row_ids(last))
    pages = {str(d.id): d.page_count for d in Document.objects.filter(direction="in")}
    shown = [pages[i] for i in row_ids(first) + row_ids(last)]
    assert shown == sorted(shown, reverse=True)


def test_rows_with_a_thumbnail_say_which_version_to_show(wrapper, tmp_path):
    png = tmp_path / "page-1.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n thumbnail")
    save_rendition(
        wrapper["scan"].versions.get(number=1), RenditionKind.THUMBNAIL, str(png), "image/png", "t"
    )
    page = client_as(Role.EXAMINER).get(f"/dossiers/{KEY}").content.decode()
    assert f'<tr data-document="{wrapper["scan"].id}" data-thumbnail="1"' in page
    note_row = re.search(rf'<tr data-document="{wrapper["note"].id}"[^>]*>', page).group(0)
    assert "data-thumbnail" not in note_row


def test_no_thumbnail_of_the_original_for_a_reader_of_the_redacted_copy(wrapper, tmp_path):
    letter = wrapper["letter"]
    png = tmp_path / "page-1.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n thumbnail of the original")
    version = letter.versions.get(number=1)
    save_rendition(version, RenditionKind.THUMBNAIL, str(png), "image/png", "t")
    row = f'<tr data-document="{letter.id}" data-thumbnail="1"'
    assert row in client_as(None).get(f"/dossiers/{KEY}").content.decode()
    staged = blobstore.spool([REDACTED], filename="request.redacted.pdf")
    actions.store_redacted_copy(version, staged, actor=Actor(label="t"))
    assert row not in client_as(None).get(f"/dossiers/{KEY}").content.decode()
    assert row in client_as(Role.EXAMINER).get(f"/dossiers/{KEY}").content.decode()


@pytest.mark.parametrize(
    ("language", "button", "heading"),
    [
        ("fr", "Sélection en un seul PDF", "Absents de ce PDF (pas de forme PDF)"),
        ("es", "Selección en un solo PDF", "No incluidos en este PDF (sin forma PDF)"),
        ("ar", "المحدد في ملف PDF واحد", "غير موجودة في ملف PDF هذا (لا توجد بصيغة PDF)"),
    ],
)
def test_the_file_wrapper_and_its_pdf_speak_the_ui_language(wrapper, language, button, heading):
    client = client_as(Role.EXAMINER)
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    assert button in client.get(f"/dossiers/{KEY}").content.decode()
    pdf = merged(post_merged(client, wrapper["letter"], wrapper["note"]))
    # The bookmark of the left-out list is translated; its page says it in Latin script only.
    assert [title for title, _ in bookmarks(pdf)][-1] == heading
    shown = "Not in this PDF (no PDF form)" if language == "ar" else heading
    escaped = shown.encode("cp1252").replace(b"(", b"\\(").replace(b")", b"\\)")
    assert b"(" + escaped + b") Tj" in pdf.pages[-1].Contents.read_bytes()
