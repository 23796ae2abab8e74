"""Scan batches through the API: submission, the batch view, and every quality-control operation
(asserting the pages that result: count, order, rotation) with its audit and its effect on what
examiners and the registry see."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pikepdf
import pypdfium2 as pdfium
import pytest
import zxingcpp
from celery import current_app

from dossier.lanes import Lane
from dossier.models import AuditEvent, Document, DocumentState, Dossier, Event, EventKind
from scanning.models import BatchState, PartState, ScanPart
from tests import scan_support as scan
from tests.conftest import create_dossier
from tests.lanes_support import deliver

D1 = "BG/P/2024/000123"
D2 = "BG/P/2024/000124"
LABELS = ["PAGE A", "PAGE B", "PAGE C", "PAGE D", "PAGE E"]


@pytest.fixture(scope="module")
def batch_bytes() -> bytes:
    return scan.batch_pdf(
        [
            scan.cover(D1, "CLM", dt.date(2024, 5, 6), skew=1.2),
            scan.text_page("PAGE A", skew=-0.7),
            scan.text_page("PAGE B"),
            scan.text_page("PAGE C", skew=0.5),
            scan.cover(D2, "DESC", upside_down=True),
            scan.text_page("PAGE D"),
            scan.smudged(scan.cover(D1, "ABST")),
            scan.text_page("PAGE E"),
        ]
    )


def fingerprints(pdf: pikepdf.Pdf) -> list[str]:
    """Each page's scanned image, by digest: tells pages apart whatever PDF they are in."""
    prints = []
    for page in pdf.pages:
        image = next(iter(page.get_images().values()))
        prints.append(hashlib.sha256(image.read_raw_bytes()).hexdigest()[:12])
    return prints


@pytest.fixture(scope="module")
def page_ids(batch_bytes) -> dict[str, str]:
    """Fingerprint of each text page of the batch, by its label."""
    with pikepdf.open(io.BytesIO(batch_bytes)) as pdf:
        prints = fingerprints(pdf)
    return dict(zip(LABELS, [prints[i] for i in (1, 2, 3, 5, 7)], strict=True))


@pytest.fixture
def batch(db, records_clerk, batch_bytes, django_capture_on_commit_callbacks):
    """The batch submitted through the API and split by its (eager) background task."""
    create_dossier(D1), create_dossier(D2)
    current_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            upload = io.BytesIO(batch_bytes)
            upload.name = "station-1-0001.pdf"
            response = records_clerk.post(
                "/api/v1/scan-batches", {"file": upload, "station": "S1"}, format="multipart"
            )
    finally:
        current_app.conf.task_always_eager = False
    assert response.status_code == 202, response.content
    assert response.json()["state"] == "queued"
    body = records_clerk.get(f"/api/v1/scan-batches/{response.json()['id']}").json()
    assert body["state"] == "qc"
    return body


def part_of(batch: dict, index: int) -> ScanPart:
    return ScanPart.objects.get(batch_id=batch["id"], index=index)


def pages_of(client, part_id) -> pikepdf.Pdf:
    response = client.get(f"/api/v1/scan-parts/{part_id}/content")
    assert response.status_code == 200
    return pikepdf.open(io.BytesIO(b"".join(response.streaming_content)))


def labels(client, part_id, page_ids) -> list[str]:
    by_print = {v: k for k, v in page_ids.items()}
    return [by_print.get(p, "?") for p in fingerprints(pages_of(client, part_id))]


def qc(client, part, operation, body=None, **kwargs):
    return client.post(
        f"/api/v1/scan-parts/{part.id}/{operation}", body or {}, format="json", **kwargs
    )


def test_batch_view_lists_documents_and_unassigned_parts(batch, records_clerk):
    assert batch["station"] == "S1" and batch["operator"] == "rico"
    assert (batch["pages_in"], batch["pages_out"], batch["cover_sheets"]) == (8, 5, 3)
    assert batch["progress"] == 100
    assert [(d["dossier"], d["type"], d["pages"], d["qc"]) for d in batch["documents"]] == [
        ("BG/P/2024/000123", "CLM", 3, "qc"),
        ("BG/P/2024/000124", "DESC", 1, "qc"),
    ]
    assert len(batch["unassigned"]) == 1
    assert batch["unassigned"][0]["pages"] == 1
    assert "unreadable" in batch["unassigned"][0]["reason"]


def test_approval_makes_the_document_visible_and_tells_the_registry(
    batch, records_clerk, examiner, registry
):
    document_id = batch["documents"][0]["id"]
    part = part_of(batch, 0)
    assert examiner.get(f"/api/v1/documents/{document_id}").status_code == 404
    assert qc(examiner, part, "approve").status_code == 403

    response = qc(records_clerk, part, "approve")
    assert response.status_code == 200, response.content
    assert response.json()["qc"] == "approved"
    assert examiner.get(f"/api/v1/documents/{document_id}").status_code == 200
    feed = registry.get("/api/v1/events").json()["events"]
    registered = [e for e in feed if e["kind"] == EventKind.DOCUMENT_REGISTERED]
    assert [e["document"] for e in registered] == [document_id]
    assert AuditEvent.objects.filter(action="scan.approve", object_id=str(part.id)).exists()
    # Approving is a decision: the part is closed, a second one is refused.
    assert qc(records_clerk, part, "approve").json()["type"].endswith("invalid-change")


def test_an_approval_is_interactive_work_though_the_batch_was_bulk(
    batch, records_clerk, django_capture_on_commit_callbacks
):
    """The batch was split in the bulk lane; the clerk's approval is what someone waits for:
    the approved document is processed on the interactive queue."""
    part = part_of(batch, 0)
    assert qc(records_clerk, part, "approve").status_code == 200
    event = Event.objects.get(kind=EventKind.DOCUMENT_REGISTERED, document_id=part.document_id)
    assert event.lane == Lane.INTERACTIVE
    sent = deliver(event, django_capture_on_commit_callbacks)
    assert sent == [("ingest.tasks.process_version", "interactive")]


def test_rejection_keeps_the_document_away_from_everyone_but_records_staff(
    batch, records_clerk, examiner
):
    part = part_of(batch, 1)
    assert qc(records_clerk, part, "reject", {}).status_code == 400
    response = qc(records_clerk, part, "reject", {"reason": "pages illegible, rescan"})
    assert response.json()["qc"] == "rejected"
    document = Document.objects.get(id=part.document_id)
    assert document.state == DocumentState.QC_REJECTED
    assert document.cancel_reason == "pages illegible, rescan"
    assert examiner.get(f"/api/v1/documents/{document.id}").status_code == 404
    assert not Event.objects.filter(document_id=document.id).exists()
    audit = AuditEvent.objects.get(action="scan.reject", object_id=str(part.id))
    assert audit.actor_label == "rico" and audit.detail["reason"] == "pages illegible, rescan"


def test_rotate_delete_and_move_pages(batch, records_clerk, page_ids):
    part = part_of(batch, 0)
    assert labels(records_clerk, part.id, page_ids) == ["PAGE A", "PAGE B", "PAGE C"]

    assert qc(records_clerk, part, "rotate", {"pages": [2], "degrees": 90}).status_code == 200
    pdf = pages_of(records_clerk, part.id)
    assert [int(p.obj.get("/Rotate", 0)) for p in pdf.pages] == [0, 90, 0]
    qc(records_clerk, part, "rotate", {"pages": [2, 3], "degrees": 180})
    pdf = pages_of(records_clerk, part.id)
    assert [int(p.obj.get("/Rotate", 0)) for p in pdf.pages] == [0, 270, 180]

    response = qc(records_clerk, part, "move-page", {"page": 3, "to": 1})
    assert response.json()["pages"] == 3
    assert labels(records_clerk, part.id, page_ids) == ["PAGE C", "PAGE A", "PAGE B"]
    pdf = pages_of(records_clerk, part.id)
    assert [int(p.obj.get("/Rotate", 0)) for p in pdf.pages] == [180, 0, 270]

    response = qc(records_clerk, part, "delete-pages", {"pages": [2]})
    assert response.json()["pages"] == 2
    assert labels(records_clerk, part.id, page_ids) == ["PAGE C", "PAGE B"]
    assert qc(records_clerk, part, "delete-pages", {"pages": [1, 2]}).status_code == 400
    assert qc(records_clerk, part, "delete-pages", {"pages": [7]}).status_code == 400

    # Each change is a new version of the held document, none announced to the registry.
    document = Document.objects.get(id=part.document_id)
    assert document.latest_version == 5
    assert not Event.objects.filter(document_id=document.id).exists()
    actions = AuditEvent.objects.filter(object_id=str(part.id)).values_list("action", flat=True)
    assert sorted(actions) == [
        "scan.delete_pages",
        "scan.move_page",
        "scan.rotate",
        "scan.rotate",
    ]
    # Approval announces the document once, with the version QC produced.
    qc(records_clerk, part, "approve")
    event = Event.objects.get(document_id=document.id)
    assert (event.kind, event.version) == (EventKind.DOCUMENT_REGISTERED, 5)


def test_resplit_a_part_into_two_documents(batch, records_clerk, page_ids):
    part = part_of(batch, 0)
    response = qc(records_clerk, part, "split", {"page": 2})
    assert response.status_code == 201, response.content
    new = response.json()
    assert labels(records_clerk, part.id, page_ids) == ["PAGE A"]
    assert labels(records_clerk, new["id"], page_ids) == ["PAGE B", "PAGE C"]
    assert (new["dossier"], new["type"], new["qc"]) == (D1, "CLM", "qc")
    assert new["document"] != str(part.document_id)
    assert Document.objects.get(id=new["document"]).state == DocumentState.QC_PENDING
    assert new["source_pages"] == [3, 4]
    assert qc(records_clerk, part, "split", {"page": 1}).status_code == 400


def test_merge_two_parts(batch, records_clerk, page_ids):
    first, second = part_of(batch, 0), part_of(batch, 1)
    response = qc(records_clerk, first, "merge", {"other": str(second.id)})
    assert response.status_code == 200, response.content
    assert response.json()["pages"] == 4
    assert labels(records_clerk, first.id, page_ids) == ["PAGE A", "PAGE B", "PAGE C", "PAGE D"]
    second.refresh_from_db()
    assert second.state == PartState.MERGED
    assert Document.objects.get(id=second.document_id).state == DocumentState.QC_REJECTED
    view = records_clerk.get(f"/api/v1/scan-batches/{batch['id']}").json()
    assert [d["pages"] for d in view["documents"]] == [4]


def test_replace_a_page_with_a_rescan(batch, records_clerk, page_ids):
    part = part_of(batch, 0)
    rescan = io.BytesIO()
    scan.text_page("PAGE B RESCANNED").save(rescan, format="PNG", dpi=(300, 300))
    rescan.seek(0)
    rescan.name = "rescan.png"
    response = records_clerk.post(
        f"/api/v1/scan-parts/{part.id}/replace-page",
        {"page": 2, "file": rescan},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    assert labels(records_clerk, part.id, page_ids) == ["PAGE A", "?", "PAGE C"]
    document = Document.objects.get(id=part.document_id)
    assert document.latest_version == 2
    versions = records_clerk.get(f"/api/v1/documents/{document.id}/versions").json()
    assert [v["number"] for v in versions] == [1, 2]


def test_assign_an_unassigned_part_then_the_batch_is_done(batch, records_clerk, examiner):
    unassigned = ScanPart.objects.get(id=batch["unassigned"][0]["part"])
    assert qc(records_clerk, unassigned, "approve").status_code == 400  # nowhere to go yet
    response = qc(records_clerk, unassigned, "assign", {"dossier": "BG/P/2024/999"})
    assert response.status_code == 400
    response = qc(
        records_clerk,
        unassigned,
        "assign",
        {"dossier": D1, "type": "ABST", "official_date": "2024-05-06"},
    )
    assert response.status_code == 200, response.content
    assert (response.json()["qc"], response.json()["dossier"]) == ("qc", D1)
    document = Document.objects.get(id=response.json()["document"])
    assert (document.doc_type_id, document.state) == ("ABST", DocumentState.QC_PENDING)

    for index in (0, 1):
        qc(records_clerk, part_of(batch, index), "approve")
    view = records_clerk.get(f"/api/v1/scan-batches/{batch['id']}").json()
    assert view["state"] == "qc"
    qc(records_clerk, unassigned, "approve")
    view = records_clerk.get(f"/api/v1/scan-batches/{batch['id']}").json()
    assert view["state"] == BatchState.DONE and view["finished_at"]
    listed = examiner.get(f"/api/v1/dossiers/{D1}/documents").json()["results"]
    assert sorted(d["type"] for d in listed) == ["ABST", "CLM"]
    # A finished batch takes no more QC operations.
    assert qc(records_clerk, unassigned, "reject", {"reason": "late"}).status_code == 400


@pytest.mark.django_db
def test_scan_batches_are_for_records_staff(examiner, registry, public):
    upload = io.BytesIO(b"%PDF-1.7 nothing")
    upload.name = "x.pdf"
    assert (
        examiner.post("/api/v1/scan-batches", {"file": upload}, format="multipart").status_code
        == 403
    )
    assert public.get("/api/v1/scan-batches").status_code in (401, 403)


@pytest.mark.django_db
def test_a_batch_must_be_a_pdf_or_tiff(records_clerk):
    upload = io.BytesIO(b"hello, not a scan")
    upload.name = "notes.txt"
    response = records_clerk.post("/api/v1/scan-batches", {"file": upload}, format="multipart")
    assert response.status_code == 415
    assert response.json()["type"].endswith("unsupported-media-type")


@pytest.mark.django_db
def test_cover_sheets_pdf_carries_the_routing_in_its_barcodes(registry, records_clerk, examiner):
    create_dossier(D1)
    sheets = [
        {"dossier": "BG/P/2024/123", "type": "clm", "official_date": "2024-05-06", "title": "T"},
        {"dossier": D1, "type": "REQ"},
        {"separator": True},
    ]
    response = registry.post("/api/v1/cover-sheets", sheets, format="json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    document = pdfium.PdfDocument(response.content)
    assert len(document) == 3
    width, height = document[0].get_size()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)  # A4
    payloads = []
    for index in range(3):
        image = document[index].render(scale=150 / 72, grayscale=True).to_pil()
        found = zxingcpp.read_barcodes(image, formats=(zxingcpp.BarcodeFormat.QRCode,))
        payloads.append(found[0].text)
    assert payloads == [
        "EDMS1|BG/P/2024/000123|CLM|2024-05-06|T",
        "EDMS1|BG/P/2024/000123|REQ||",
        "EDMS1|NEXT",
    ]
    single = records_clerk.post(
        "/api/v1/cover-sheets", {"dossier": D1, "type": "CLM"}, format="json"
    )
    assert len(pdfium.PdfDocument(single.content)) == 1
    assert examiner.post("/api/v1/cover-sheets", sheets, format="json").status_code == 403
    unknown = registry.post(
        "/api/v1/cover-sheets", {"dossier": "BG/P/2099/1", "type": "CLM"}, format="json"
    )
    assert unknown.status_code == 404
    bad_type = registry.post("/api/v1/cover-sheets", {"dossier": D1, "type": "NOPE"}, format="json")
    assert bad_type.status_code in (400, 422)


def test_assigning_to_an_unknown_document_type_is_the_unknown_type_problem(batch, records_clerk):
    unassigned = ScanPart.objects.get(id=batch["unassigned"][0]["part"])
    response = qc(records_clerk, unassigned, "assign", {"dossier": D1, "type": "NOPE"})
    assert response.status_code == 400
    body = response.json()
    assert body["type"].endswith("/unknown-document-type") and body["field"] == "type"
    assert "'NOPE'" in body["detail"]


def test_dashboard_figures(batch, records_clerk, examiner):
    part = part_of(batch, 0)
    rescan = io.BytesIO()
    scan.text_page("RESCAN").save(rescan, format="PNG")
    rescan.seek(0)
    records_clerk.post(
        f"/api/v1/scan-parts/{part.id}/replace-page",
        {"page": 1, "file": rescan},
        format="multipart",
    )
    qc(records_clerk, part, "approve")
    qc(records_clerk, part_of(batch, 1), "reject", {"reason": "blurred"})
    figures = records_clerk.get("/api/v1/scan-batches/stats").json()
    [day] = figures["per_day"]
    assert (day["station"], day["operator"], day["batches"]) == ("S1", "rico", 1)
    assert (day["pages_in"], day["pages_out"]) == (8, 5)
    assert figures["parts"] == {
        "unassigned": 1,
        "qc": 0,
        "approved": 1,
        "rejected": 1,
        "merged": 0,
        "blank": 0,
    }
    assert figures["rejection_rate"] == 0.5
    assert figures["rescan_rate"] == 0.2  # one page of five rescanned
    assert figures["error_rate"] == 0.0
    assert figures["backlog"]["open_parts"] == 1 and figures["backlog"]["unassigned_parts"] == 1
    assert examiner.get("/api/v1/scan-batches/stats").status_code == 403


@pytest.mark.django_db
def test_records_staff_record_where_the_paper_file_is(records_clerk, examiner, registry):
    create_dossier(D1)
    body = {"paper_location": "archive room 2, shelf 14; scanned, paper kept until 2027-06"}
    response = records_clerk.put(f"/api/v1/paper-locations/{D1}", body, format="json")
    assert response.status_code == 200, response.content
    assert registry.get(f"/api/v1/dossiers/{D1}").json()["paper_location"] == body["paper_location"]
    assert AuditEvent.objects.filter(action="dossier.update", dossier_key="BG/P/2024/123").exists()
    assert examiner.put(f"/api/v1/paper-locations/{D1}", body, format="json").status_code == 403


def test_retried_submissions_and_operations_do_not_repeat(batch, records_clerk, batch_bytes):
    part = part_of(batch, 0)
    first = qc(records_clerk, part, "split", {"page": 2}, HTTP_IDEMPOTENCY_KEY="split-1")
    again = qc(records_clerk, part, "split", {"page": 2}, HTTP_IDEMPOTENCY_KEY="split-1")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert ScanPart.objects.filter(batch_id=batch["id"]).count() == 4
    assert part_of(batch, 0).page_count == 1

    def post():
        upload = io.BytesIO(batch_bytes)
        upload.name = "retry.pdf"
        return records_clerk.post(
            "/api/v1/scan-batches", {"file": upload}, format="multipart", HTTP_IDEMPOTENCY_KEY="b-7"
        )

    assert post().json()["id"] == post().json()["id"]


def test_parts_filed_to_a_secret_dossier_stay_hidden_from_records_staff(
    batch, records_clerk, admin_client
):
    """A secrecy order overrides every rule, scanned parts included."""
    part = ScanPart.objects.get(batch_id=batch["id"], document__dossier__key="BG/P/2024/124")
    assert records_clerk.get(f"/api/v1/scan-parts/{part.id}").status_code == 200
    Dossier.objects.filter(key="BG/P/2024/124").update(secret=True)
    assert records_clerk.get(f"/api/v1/scan-parts/{part.id}").status_code == 404
    assert records_clerk.get(f"/api/v1/scan-parts/{part.id}/content").status_code == 404
    assert qc(records_clerk, part, "approve").status_code == 404
    assert admin_client.get(f"/api/v1/scan-parts/{part.id}").status_code == 200


@pytest.mark.parametrize("kind", ["pdf", "tiff"])
def test_a_rescan_can_be_a_pdf_or_a_tiff(batch, records_clerk, page_ids, kind):
    part = part_of(batch, 0)
    page = scan.text_page("PAGE B RESCANNED")
    rescan = io.BytesIO(scan.batch_pdf([page]) if kind == "pdf" else scan.batch_tiff([page]))
    rescan.name = f"rescan.{kind}"
    response = records_clerk.post(
        f"/api/v1/scan-parts/{part.id}/replace-page",
        {"page": 2, "file": rescan},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    assert labels(records_clerk, part.id, page_ids) == ["PAGE A", "?", "PAGE C"]
    assert Document.objects.get(id=part.document_id).latest_version == 2


def test_a_rescan_that_is_no_image_is_refused(batch, records_clerk):
    part = part_of(batch, 0)
    rescan = io.BytesIO(b"not a scan at all")
    rescan.name = "rescan.txt"
    response = records_clerk.post(
        f"/api/v1/scan-parts/{part.id}/replace-page",
        {"page": 2, "file": rescan},
        format="multipart",
    )
    assert response.status_code == 400
    assert "the rescan is not a PDF or an image" in response.content.decode()
