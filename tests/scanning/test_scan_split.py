"""Splitting a realistic scan batch: cut at edms's own cover sheets, route, hold for QC."""

from __future__ import annotations

import datetime as dt

import pikepdf
import pytest
from django.utils import timezone

from dossier import access, blobstore
from dossier.audit import Actor
from dossier.models import Channel, DocumentState, Event, EventKind
from scanning import splitting
from scanning.models import BatchState, PartState, ScanPart
from tests import scan_support as scan
from tests.conftest import create_dossier

D1 = "BG/P/2024/000123"
D2 = "BG/P/2024/000124"
MISSING = "BG/P/2099/999999"


def realistic_pages():
    """13 pages; the comments say what splitting must make of each."""
    return [
        scan.cover(D1, "CLM", dt.date(2024, 3, 1), "Claims as filed", skew=1.5),  # 1 sheet
        scan.text_page("CLAIMS ONE", skew=-2.0),  # 2 → D1 CLM
        scan.text_page("CLAIMS TWO", skew=0.6),  # 3 → D1 CLM
        scan.blank_page(seed=4),  # 4 set aside as blank
        scan.separator(skew=-0.8),  # 5 sheet
        scan.text_page("CLAIMS AMENDED"),  # 6 → D1 CLM, second document
        scan.cover(D2, "DESC", dt.date(2024, 4, 2), upside_down=True, skew=0.4),  # 7 sheet, 180°
        scan.text_page("DESCRIPTION ONE", skew=1.1),  # 8 → D2 DESC
        scan.text_page("DESCRIPTION TWO"),  # 9 → D2 DESC
        scan.smudged(scan.cover(D1, "ABST", skew=-1.0)),  # 10 unreadable sheet
        scan.text_page("ABSTRACT"),  # 11 → unassigned
        scan.cover(MISSING, "REQ", skew=0.3),  # 12 sheet naming no dossier
        scan.text_page("REQUEST"),  # 13 → unassigned
    ]


@pytest.fixture(scope="module")
def batch_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("scan") / "batch.pdf"
    path.write_bytes(scan.batch_pdf(realistic_pages()))
    return path


def submit(path, **options):
    staged = blobstore.spool([path.read_bytes()], filename=path.name)
    return splitting.submit_batch(staged, actor=Actor(label="station-1"), station="S1", **options)


def part_pdf(part: ScanPart) -> pikepdf.Pdf:
    import io

    return pikepdf.open(io.BytesIO(b"".join(blobstore.read_chunks(part.content_id))))


@pytest.mark.django_db
def test_batch_is_split_at_cover_sheets_and_routed_for_qc(batch_file):
    d1, d2 = create_dossier(D1), create_dossier(D2)
    batch = submit(batch_file)
    batch = splitting.split_batch(batch.id)

    assert batch.state == BatchState.QC
    assert (batch.pages_in, batch.cover_sheets, batch.blank_pages, batch.pages_out) == (13, 5, 1, 7)
    assert batch.progress == 100
    parts = list(batch.parts.order_by("index"))
    summary = [(p.state, p.dossier_key, p.type_code, p.source_pages) for p in parts]
    assert summary == [
        (PartState.QC, D1, "CLM", [2, 3]),
        (PartState.QC, D1, "CLM", [6]),
        (PartState.QC, D2, "DESC", [8, 9]),
        (PartState.UNASSIGNED, "", "", [11]),
        (PartState.UNASSIGNED, MISSING, "REQ", [13]),
        (PartState.BLANK, "", "", [4]),  # kept with the batch, never filed
    ]
    assert "unreadable" in parts[3].reason
    assert parts[4].reason == f"dossier {MISSING} does not exist"

    documents = [p.document for p in parts[:3]]
    assert [d.dossier_id for d in documents] == [d1.id, d1.id, d2.id]
    assert [d.doc_type_id for d in documents] == ["CLM", "CLM", "DESC"]
    assert documents[0].official_date == dt.date(2024, 3, 1)
    assert documents[0].title == "Claims as filed"
    assert documents[2].official_date == dt.date(2024, 4, 2)
    assert {d.state for d in documents} == {DocumentState.QC_PENDING}
    assert {d.channel for d in documents} == {Channel.SCAN}
    assert [len(part_pdf(p).pages) for p in parts] == [2, 1, 2, 1, 1, 1]
    assert parts[5].document is None
    # Nothing reached the registry: no document events before approval.
    assert not Event.objects.filter(kind=EventKind.DOCUMENT_REGISTERED).exists()


@pytest.mark.django_db
def test_held_documents_are_seen_only_by_records_staff(batch_file, records_clerk, examiner):
    create_dossier(D1), create_dossier(D2)
    batch = splitting.split_batch(submit(batch_file).id)
    document = batch.parts.get(index=0).document
    assert examiner.get(f"/api/v1/documents/{document.id}").status_code == 404
    assert records_clerk.get(f"/api/v1/documents/{document.id}").status_code == 200
    listed = examiner.get(f"/api/v1/dossiers/{D1}/documents").json()
    assert listed["count"] == 0 if "count" in listed else listed["results"] == []
    assert access.document_readers(document).principals == {"role:admin", "role:records_clerk"}


@pytest.mark.django_db
def test_splitting_again_never_duplicates_documents(batch_file):
    create_dossier(D1), create_dossier(D2)
    batch = splitting.split_batch(submit(batch_file).id)
    assert splitting.split_batch(batch.id) is None  # finished batches are left alone
    # A worker that died half-way (longer ago than any split takes): the batch is still
    # `splitting` and one part exists.
    died_at = timezone.now() - splitting.STALE_SPLIT - dt.timedelta(minutes=1)
    batch.__class__.objects.filter(id=batch.id).update(
        state=BatchState.SPLITTING, started_at=died_at
    )
    batch.parts.filter(index__gte=1).delete()
    from dossier.models import Document, Version

    kept = batch.parts.get(index=0).document_id
    Version.objects.exclude(document_id=kept).delete()
    Document.objects.exclude(id=kept).delete()
    splitting.split_batch(batch.id)
    assert batch.parts.count() == 6  # five parts and the blank pages
    assert Document.objects.count() == 3


@pytest.mark.django_db
def test_multipage_tiff_batches_split_like_pdfs(tmp_path):
    create_dossier(D1)
    path = tmp_path / "batch.tif"
    pages = [
        scan.cover(D1, "CLM", skew=1.0, quarter_turn=True),
        scan.text_page("ONE"),
        scan.separator(upside_down=True),
        scan.text_page("TWO"),
        scan.text_page("THREE"),
    ]
    path.write_bytes(scan.batch_tiff(pages))
    batch = splitting.split_batch(submit(path).id)
    assert batch.state == BatchState.QC
    assert [p.source_pages for p in batch.parts.order_by("index")] == [[2], [4, 5]]


@pytest.mark.django_db
def test_blank_pages_are_kept_when_asked(batch_file):
    create_dossier(D1), create_dossier(D2)
    batch = splitting.split_batch(submit(batch_file, drop_blank_pages=False).id)
    assert batch.parts.get(index=0).source_pages == [2, 3, 4]


@pytest.mark.django_db
def test_an_unreadable_batch_fails_with_a_reason(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n garbage that no reader can open")
    batch = splitting.split_batch(submit(path).id)
    assert batch.state == BatchState.FAILED
    assert batch.error
    assert batch.parts.count() == 0
