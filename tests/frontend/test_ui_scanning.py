"""The records staff's pages over Django's test client: who may use them, the dashboard and batch
pages, the QC queue with page thumbnails, every QC operation from the part page's forms (asserting
the pages that result), cover-sheet printing and the paper file's location."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import time

import pikepdf
import pypdfium2 as pdfium
import pytest
import zxingcpp
from celery import current_app
from django.test import Client
from PIL import Image

from dossier.models import AuditEvent, Document, DocumentState, Dossier
from dossier.roles import Role
from scanning import thumbnails
from scanning.models import BatchState, PartState, ScanBatch, ScanPart
from tests import scan_support as scan
from tests.conftest import create_dossier
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

D1 = "BG/P/2024/000123"
D2 = "BG/P/2024/000124"


@pytest.fixture(scope="module")
def batch_bytes() -> bytes:
    return scan.batch_pdf(
        [
            scan.cover(D1, "CLM", dt.date(2024, 5, 6), skew=1.2),
            scan.text_page("PAGE A"),
            scan.text_page("PAGE B"),
            scan.text_page("PAGE C"),
            scan.cover(D2, "DESC", upside_down=True),
            scan.text_page("PAGE D"),
            scan.smudged(scan.cover(D1, "ABST")),
            scan.text_page("PAGE E"),
        ]
    )


@pytest.fixture
def clerk() -> Client:
    client = Client()
    client.force_login(UserFactory(username="rico", role=Role.RECORDS_CLERK))
    return client


@pytest.fixture
def batch(batch_bytes) -> ScanBatch:
    create_dossier(D1), create_dossier(D2)
    return scan.split_now(batch_bytes, station="S1")


def parts(batch) -> list[ScanPart]:
    return list(ScanPart.objects.filter(batch=batch).order_by("index"))


def page_rotations(part: ScanPart) -> list[int]:
    part.refresh_from_db()
    with pikepdf.open(io.BytesIO(_content(part))) as pdf:
        return [int(page.obj.get("/Rotate", 0)) % 360 for page in pdf.pages]


def _content(part: ScanPart) -> bytes:
    from dossier import blobstore

    return b"".join(blobstore.read_chunks(part.content_id))


def operate(client, part, operation, data=None):
    return client.post(f"/scanning/parts/{part.id}/{operation}", data or {}, follow=True)


def shown_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Who may use the pages ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/scanning", "/scanning/qc", "/scanning/cover-sheets"], ids=["dash", "qc", "sheets"]
)
def test_only_records_staff_and_admins_use_the_scanning_pages(url):
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    examiner = Client()
    examiner.force_login(UserFactory(role=Role.EXAMINER))
    assert examiner.get(url).status_code == 403
    for role in (Role.RECORDS_CLERK, Role.ADMIN):
        staff = Client()
        staff.force_login(UserFactory(role=role, is_superuser=role == Role.ADMIN))
        assert staff.get(url).status_code == 200


def test_navigation_offers_scanning_to_records_staff_only(clerk):
    assert 'href="/scanning"' in clerk.get("/").content.decode()
    examiner = Client()
    examiner.force_login(UserFactory(role=Role.EXAMINER))
    assert 'href="/scanning"' not in examiner.get("/").content.decode()


def test_examiners_cannot_operate_on_parts(batch):
    examiner = Client()
    examiner.force_login(UserFactory(role=Role.EXAMINER))
    part = parts(batch)[0]
    assert examiner.post(f"/scanning/parts/{part.id}/approve").status_code == 403
    part.refresh_from_db()
    assert part.state == PartState.QC


# --- Dashboard and batches ----------------------------------------------------------------------


def test_dashboard_shows_backlog_throughput_and_batches(clerk, batch):
    page = clerk.get("/scanning")
    figures = page.context["figures"]
    assert figures["backlog"] == {
        "queued": 0,
        "splitting": 0,
        "in_qc": 1,
        "open_parts": 3,
        "open_pages": 5,
        "unassigned_parts": 1,
    }
    assert [(r["station"], r["pages_in"], r["pages_out"]) for r in figures["per_day"]] == [
        ("S1", 8, 5)
    ]
    html = page.content.decode()
    assert 'data-figure="open_pages">5<' in html
    row = next(b for b in page.context["batches"] if b.id == batch.id)
    assert (row.documents, row.unassigned, row.open_parts) == (2, 1, 3)
    assert f"/scanning/batches/{batch.id}" in html


def test_submitting_a_batch_from_the_form_splits_it_in_the_background(
    clerk, batch_bytes, django_capture_on_commit_callbacks
):
    create_dossier(D1), create_dossier(D2)
    upload = io.BytesIO(batch_bytes)
    upload.name = "station-2-0001.pdf"
    current_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = clerk.post(
                "/scanning/batches",
                {"file": upload, "station": "S2", "drop_blank_pages": "on"},
            )
    finally:
        current_app.conf.task_always_eager = False
    batch = ScanBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/scanning/batches/{batch.id}"
    assert (batch.station, batch.operator_label, batch.origin) == ("S2", "rico", "ui")
    assert batch.state == BatchState.QC and batch.drop_blank_pages
    page = clerk.get(response["Location"])
    assert [(p.state, p.page_count) for p in page.context["parts"]] == [
        ("qc", 3),
        ("qc", 1),
        ("unassigned", 1),
    ]
    assert "unreadable" in page.content.decode()


def test_a_file_that_is_not_a_scan_is_refused_with_a_message(clerk):
    upload = io.BytesIO(b"hello, not a scan")
    upload.name = "notes.txt"
    response = clerk.post("/scanning/batches", {"file": upload}, follow=True)
    assert "Not a scan batch" in " ".join(shown_messages(response))
    assert not ScanBatch.objects.exists()


def test_batch_page_polls_while_the_batch_is_being_split(clerk, batch):
    ScanBatch.objects.filter(id=batch.id).update(state=BatchState.SPLITTING, progress=40)
    html = clerk.get(f"/scanning/batches/{batch.id}").content.decode()
    assert 'data-polling="true"' in html
    assert f'data-status-url="/api/v1/scan-batches/{batch.id}"' in html
    assert 'value="40"' in html


# --- The QC queue and thumbnails ----------------------------------------------------------------


def test_queue_lists_open_parts_with_their_first_page(clerk, batch):
    page = clerk.get("/scanning/qc")
    listed = [p.id for p in page.context["page"]]
    assert listed == [p.id for p in parts(batch)]
    html = page.content.decode()
    first = parts(batch)[0]
    assert f"/scanning/parts/{first.id}/pages/1?c={first.content_id}" in html
    unassigned = clerk.get("/scanning/qc?state=unassigned").context["page"]
    assert [p.state for p in unassigned] == ["unassigned"]


def test_thumbnails_show_each_page_as_turned(clerk, batch):
    part = parts(batch)[0]
    url = f"/scanning/parts/{part.id}/pages/1?c={part.content_id}"
    response = clerk.get(url)
    assert response["Content-Type"] == "image/png"
    assert "immutable" in response["Cache-Control"]
    upright = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert upright.width == 240 and upright.height > upright.width  # A4, portrait
    operate(clerk, part, "rotate", {"pages": "1", "degrees": "90"})
    part.refresh_from_db()
    turned_page = clerk.get(f"/scanning/parts/{part.id}/pages/1")
    turned = Image.open(io.BytesIO(b"".join(turned_page.streaming_content)))
    assert turned.width == 240 and turned.height < turned.width  # now landscape
    assert clerk.get(f"/scanning/parts/{part.id}/pages/4").status_code == 404


def test_a_parts_thumbnails_are_rendered_together_once_and_kept(clerk, batch):
    part = parts(batch)[0]
    assert clerk.get(f"/scanning/parts/{part.id}/pages/2").status_code == 200
    kept = sorted(thumbnails.cache_dir().glob(f"*/{part.content_id}/*.png"))
    assert [p.name for p in kept] == ["1-240.png", "2-240.png", "3-240.png"]
    first_rendered = kept[2].stat().st_mtime_ns
    third = clerk.get(f"/scanning/parts/{part.id}/pages/3")
    assert b"".join(third.streaming_content) == kept[2].read_bytes()
    assert kept[2].stat().st_mtime_ns == first_rendered  # served from the cache
    assert thumbnails.prune(max_age_days=1) == 0  # just used
    old = time.time() - 3 * 86400
    os.utime(kept[0].parent, (old, old))
    assert thumbnails.prune(max_age_days=1) == 1
    assert not kept[0].exists()


def test_a_parts_pages_download_as_a_streamed_pdf_with_ranges(clerk, batch):
    part = parts(batch)[0]
    url = f"/api/v1/scan-parts/{part.id}/content"
    whole = clerk.get(url)
    body = b"".join(whole.streaming_content)
    assert whole["ETag"] == f'"{part.content_id}"' and body.startswith(b"%PDF-")
    head = clerk.get(url, HTTP_RANGE="bytes=0-9")
    assert head.status_code == 206 and b"".join(head.streaming_content) == body[:10]


def test_a_secret_dossiers_parts_stay_hidden_in_the_ui(clerk, batch):
    part = next(p for p in parts(batch) if p.dossier_key == "BG/P/2024/000124")
    assert clerk.get(f"/scanning/parts/{part.id}").status_code == 200
    Dossier.objects.filter(key="BG/P/2024/124").update(secret=True)
    assert clerk.get(f"/scanning/parts/{part.id}").status_code == 404
    assert clerk.get(f"/scanning/parts/{part.id}/pages/1").status_code == 404
    assert clerk.post(f"/scanning/parts/{part.id}/approve").status_code == 404
    assert part.id not in [p.id for p in clerk.get("/scanning/qc").context["page"]]


# --- Operations from the part page --------------------------------------------------------------


def test_part_page_offers_every_operation_for_each_page(clerk, batch):
    part = parts(batch)[0]
    html = clerk.get(f"/scanning/parts/{part.id}").content.decode()
    for label in ("Rotate page 3 left", "Delete page 2", "Split before page 2", "Replace page 1"):
        assert label in html
    assert "Split before page 1" not in html
    assert "Approve and file" in html and "Merge" in html


def test_approve_files_the_document_and_goes_on_to_the_next_part(clerk, batch):
    first, second, _ = parts(batch)
    response = clerk.post(f"/scanning/parts/{first.id}/approve")
    assert response["Location"] == f"/scanning/parts/{second.id}"
    document = Document.objects.get(id=first.document_id)
    assert document.state == DocumentState.ACTIVE
    audit = AuditEvent.objects.get(action="scan.approve", object_id=str(first.id))
    assert audit.actor_label == "rico"


def test_reject_needs_a_reason(clerk, batch):
    part = parts(batch)[0]
    response = operate(clerk, part, "reject", {"reason": ""})
    assert "reason" in " ".join(shown_messages(response))
    part.refresh_from_db()
    assert part.state == PartState.QC
    operate(clerk, part, "reject", {"reason": "illegible"})
    part.refresh_from_db()
    assert (part.state, part.reason) == (PartState.REJECTED, "illegible")


def test_page_operations_change_the_pages(clerk, batch):
    part = parts(batch)[0]
    operate(clerk, part, "rotate", {"pages": "2", "degrees": "180"})
    assert page_rotations(part) == [0, 180, 0]
    operate(clerk, part, "move-page", {"page": "2", "to": "3"})
    assert page_rotations(part) == [0, 0, 180]
    response = operate(clerk, part, "delete-pages", {"pages": "1"})
    assert page_rotations(part) == [0, 180]
    assert "part 1 has 2 pages" in " ".join(shown_messages(response))
    response = operate(clerk, part, "move-page", {"page": "1", "to": "9"})
    assert "pages 1 to 2" in " ".join(shown_messages(response))


def test_split_and_merge_from_the_part_page(clerk, batch):
    part = parts(batch)[0]
    response = operate(clerk, part, "split", {"page": "3"})
    assert response.redirect_chain[-1][0] == f"/scanning/parts/{part.id}"
    new = ScanPart.objects.get(batch=batch, index=3)
    part.refresh_from_db()
    assert (part.page_count, new.page_count) == (2, 1)
    assert new.document.dossier.key == part.document.dossier.key
    operate(clerk, part, "merge", {"other": str(new.id)})
    part.refresh_from_db(), new.refresh_from_db()
    assert part.page_count == 3 and new.state == PartState.MERGED


def fingerprints(content: bytes) -> list[str]:
    """Each page's scanned image, by digest: tells pages apart whatever PDF they are in."""
    with pikepdf.open(io.BytesIO(content)) as pdf:
        return [
            hashlib.sha256(next(iter(p.get_images().values())).read_raw_bytes()).hexdigest()
            for p in pdf.pages
        ]


def test_replace_a_page_with_a_rescan(clerk, batch):
    part = parts(batch)[0]
    before = fingerprints(_content(part))
    rescan = io.BytesIO()
    scan.text_page("PAGE B RESCANNED").save(rescan, format="PNG", dpi=(300, 300))
    rescan.seek(0)
    rescan.name = "rescan.png"
    operate(clerk, part, "replace-page", {"page": "2", "file": rescan})
    part.refresh_from_db()
    after = fingerprints(_content(part))
    assert len(after) == 3
    assert (after[0], after[2]) == (before[0], before[2]) and after[1] not in before
    assert AuditEvent.objects.filter(action="scan.replace_page").count() == 1


def test_assign_an_unassigned_part_to_a_dossier_and_type(clerk, batch):
    unassigned = parts(batch)[2]
    response = operate(
        clerk, unassigned, "assign", {"dossier": "BG/P/2024/123", "type": "ABST", "title": ""}
    )
    unassigned.refresh_from_db()
    assert unassigned.state == PartState.QC
    assert unassigned.document.dossier.key == "BG/P/2024/123"
    assert unassigned.document.doc_type_id == "ABST"
    assert "assigned" in " ".join(shown_messages(response))
    response = operate(clerk, parts(batch)[1], "assign", {"dossier": "BG/P/2099/1", "type": "CLM"})
    assert "Not done" in " ".join(shown_messages(response))


def test_an_unknown_operation_is_not_found(clerk, batch):
    assert clerk.post(f"/scanning/parts/{parts(batch)[0].id}/shred").status_code == 404


# --- Cover sheets and the paper file ------------------------------------------------------------


def _qr_texts(pdf_bytes: bytes) -> list[str]:
    texts = []
    for page in pdfium.PdfDocument(pdf_bytes):
        image = page.render(scale=150 / 72).to_pil()
        found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        texts.append(found[0].text if found else "")
    return texts


def test_print_cover_sheets_for_a_list_of_dossiers(clerk):
    create_dossier(D1), create_dossier(D2)
    response = clerk.post(
        "/scanning/cover-sheets",
        {"dossiers": f"{D1}\n\n  BG/P/2024/124 \n", "type": "CLM", "official_date": "2024-05-06"},
    )
    assert response["Content-Type"] == "application/pdf"
    texts = _qr_texts(response.content)
    assert len(texts) == 2
    assert texts[0].startswith("EDMS1|BG/P/2024/000123|CLM|2024-05-06")
    assert texts[1].startswith("EDMS1|BG/P/2024/000124|CLM|2024-05-06")


def test_cover_sheets_for_unknown_dossiers_are_refused_with_each_named(clerk):
    create_dossier(D1)
    response = clerk.post(
        "/scanning/cover-sheets", {"dossiers": f"{D1}\nBG/P/2099/1\nnonsense", "type": "CLM"}
    )
    assert response.status_code == 400
    errors = " ".join(response.context["errors"])
    assert "BG/P/2099/1" in errors and "nonsense" in errors and D1 not in errors


def test_print_separator_sheets(clerk):
    response = clerk.post("/scanning/cover-sheets", {"separator": "1", "separators": "2"})
    assert _qr_texts(response.content) == ["EDMS1|NEXT", "EDMS1|NEXT"]


def test_records_staff_record_where_the_paper_file_is(clerk):
    dossier = create_dossier(D1)
    page = clerk.get(f"/dossiers/{D1}").content.decode()
    assert 'name="paper_location"' in page
    response = clerk.post(
        f"/dossiers/{D1}/paper-location", {"paper_location": "archive room 2, shelf 14"}
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.paper_location == "archive room 2, shelf 14"
    assert "archive room 2, shelf 14" in clerk.get(f"/dossiers/{D1}").content.decode()
    examiner = Client()
    examiner.force_login(UserFactory(role=Role.EXAMINER))
    assert 'name="paper_location"' not in examiner.get(f"/dossiers/{D1}").content.decode()
    refused = examiner.post(f"/dossiers/{D1}/paper-location", {"paper_location": "x"})
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("language", "heading", "state"),
    [
        ("fr", "Contrôle qualité", "Approuvée"),
        ("es", "Control de calidad", "Aprobada"),
        ("ar", "مراقبة الجودة", "معتمد"),
    ],
)
def test_scanning_pages_follow_the_ui_language(clerk, batch, language, heading, state):
    clerk.post("/i18n/setlang/", {"language": language})
    assert heading in clerk.get("/scanning/qc").content.decode()
    first = parts(batch)[0]
    clerk.post(f"/scanning/parts/{first.id}/approve")
    assert state in clerk.get(f"/scanning/batches/{batch.id}").content.decode()
