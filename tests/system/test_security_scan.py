"""Nothing scanned is lost silently (issue 10, point 5), and the OCR test's leftover-process check
that raced with other processes ending.

A page holding one short line (a signature page, "Yours faithfully") is content; a speckled
blank page is blank, and stays with its batch, shown in QC, where a clerk can put it back; a cover
sheet followed by no content page is listed as unassigned with the reason."""

from __future__ import annotations

import datetime as dt
import io
import subprocess

import pikepdf
import psutil
import pytest
from django.test import Client

from dossier import blobstore
from dossier.models import AuditEvent, Version
from dossier.roles import Role
from scanning.models import BatchState, PartState, ScanPart
from tests import scan_support as scan
from tests.conftest import create_dossier
from tests.factories import UserFactory
from tests.ingest_support import stray_processes

D1 = "BG/P/2024/000123"
D2 = "BG/P/2024/000124"


def parts(batch) -> list[ScanPart]:
    return list(ScanPart.objects.filter(batch=batch).order_by("index"))


def page_count(part: ScanPart) -> int:
    content = b"".join(blobstore.read_chunks(part.content_id))
    with pikepdf.open(io.BytesIO(content)) as pdf:
        return len(pdf.pages)


# --- Judging blankness ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("line", ["Yours faithfully", "J. Smith", "Yes"])
def test_a_page_holding_one_short_line_is_content(line):
    create_dossier(D1)
    batch = scan.split_now(
        scan.batch_pdf([scan.cover(D1, "CLM", skew=0.8), scan.one_line_page(line, seed=3)])
    )
    [part] = [p for p in parts(batch) if p.state != PartState.BLANK]
    assert (part.state, part.source_pages, part.document is not None) == (PartState.QC, [2], True)
    assert batch.blank_pages == 0


@pytest.mark.django_db
def test_a_speckled_blank_page_still_counts_as_blank():
    create_dossier(D1)
    pages = [
        scan.cover(D1, "CLM"),
        scan.text_page("CLAIMS"),
        scan.speckled_blank_page(seed=1),
        scan.one_line_page("Yours faithfully"),
        scan.speckled_blank_page(seed=2, skew=0.7),
        scan.blank_page(seed=4),
    ]
    batch = scan.split_now(scan.batch_pdf(pages))
    assert batch.blank_pages == 3
    assert [(p.state, p.source_pages) for p in parts(batch)] == [
        (PartState.QC, [2, 4]),
        (PartState.BLANK, [3, 5, 6]),
    ]


@pytest.mark.django_db
def test_the_blank_threshold_is_a_setting(settings):
    create_dossier(D1)
    content = scan.batch_pdf([scan.cover(D1, "CLM"), scan.text_page("A"), scan.one_line_page("J.")])
    settings.EDMS_SCAN_BLANK_SPECK_MM = 2.0  # marks up to 2 mm are specks: "J." is one
    batch = scan.split_now(content, filename="a.pdf")
    assert [p.source_pages for p in parts(batch)] == [[2], [3]]
    settings.EDMS_SCAN_BLANK_SPECK_MM = 1.0
    batch = scan.split_now(content, filename="b.pdf")
    assert [p.source_pages for p in parts(batch)] == [[2, 3]]


# --- Pages judged blank stay with the batch, shown in QC, and can be put back -----------------


@pytest.fixture
def batch_with_blanks(db):
    create_dossier(D1), create_dossier(D2)
    pages = [
        scan.cover(D1, "CLM"),  # 1
        scan.text_page("ONE"),  # 2
        scan.speckled_blank_page(seed=3),  # 3 set aside
        scan.text_page("TWO"),  # 4
        scan.cover(D2, "DESC"),  # 5
        scan.text_page("THREE"),  # 6
        scan.blank_page(seed=7),  # 7 set aside
    ]
    return scan.split_now(scan.batch_pdf(pages))


def test_blank_pages_stay_with_the_batch_and_show_in_the_api(batch_with_blanks, records_clerk):
    body = records_clerk.get(f"/api/v1/scan-batches/{batch_with_blanks.id}").json()
    assert body["blank_pages"] == 2
    [set_aside] = body["set_aside"]
    assert (set_aside["source_pages"], set_aside["pages"]) == ([3, 7], 2)
    assert "judged blank" in set_aside["reason"]
    part = records_clerk.get(f"/api/v1/scan-parts/{set_aside['part']}").json()
    assert (part["qc"], part["document"]) == ("blank", None)
    content = records_clerk.get(f"/api/v1/scan-parts/{set_aside['part']}/content")
    with pikepdf.open(io.BytesIO(b"".join(content.streaming_content))) as pdf:
        assert len(pdf.pages) == 2
    # The set-aside pages never hold the batch open: deciding every part finishes it.
    for listed in body["documents"]:
        records_clerk.post(f"/api/v1/scan-parts/{listed['part']}/approve")
    batch_with_blanks.refresh_from_db()
    assert batch_with_blanks.state == BatchState.DONE


def test_a_blank_page_is_put_back_into_a_part_and_audited(batch_with_blanks, records_clerk):
    first, second, blank = parts(batch_with_blanks)
    versions = Version.objects.filter(document=first.document).count()

    response = records_clerk.post(
        f"/api/v1/scan-parts/{first.id}/put-back", {"source_pages": [3]}, format="json"
    )

    assert response.status_code == 200, response.content
    assert (response.json()["pages"], response.json()["source_pages"]) == (3, [2, 3, 4])
    first.refresh_from_db(), blank.refresh_from_db()
    assert page_count(first) == 3 and Version.objects.filter(document=first.document).count() == (
        versions + 1
    )
    assert (blank.source_pages, blank.page_count, page_count(blank)) == ([7], 1, 1)
    event = AuditEvent.objects.get(action="scan.put_back")
    assert (event.object_id, event.detail["source_pages"]) == (str(first.id), [3])

    # A page not set aside (or already put back) is refused, and nothing changes.
    again = records_clerk.post(
        f"/api/v1/scan-parts/{second.id}/put-back", {"source_pages": [3]}, format="json"
    )
    assert again.status_code in (400, 409, 422), again.content
    assert again["Content-Type"] == "application/problem+json"
    second.refresh_from_db()
    assert second.source_pages == [6]

    # The last blank page put back leaves nothing set aside.
    last = records_clerk.post(
        f"/api/v1/scan-parts/{second.id}/put-back", {"source_pages": [7]}, format="json"
    )
    assert last.json()["source_pages"] == [6, 7], last.content
    blank.refresh_from_db()
    assert (blank.source_pages, blank.page_count, page_count(blank)) == ([], 0, 0)
    batch = records_clerk.get(f"/api/v1/scan-batches/{batch_with_blanks.id}").json()
    assert batch["set_aside"] == []


def test_the_qc_page_shows_blank_pages_and_puts_them_back(batch_with_blanks):
    clerk = Client()
    clerk.force_login(UserFactory(username="rico", role=Role.RECORDS_CLERK))
    first, second, blank = parts(batch_with_blanks)

    queue = clerk.get("/scanning/qc").content.decode()
    assert queue.count("set aside as blank: 3, 7") == 2  # on both open parts of the batch
    page = clerk.get(f"/scanning/parts/{second.id}").content.decode()
    assert 'id="set-aside"' in page
    assert 'name="source_pages" value="3"' in page and 'name="source_pages" value="7"' in page
    thumbnail = clerk.get(f"/scanning/parts/{blank.id}/pages/2")
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/png"

    clerk.post(f"/scanning/parts/{second.id}/put-back", {"source_pages": "7"})

    second.refresh_from_db()
    assert (second.source_pages, page_count(second)) == ([6, 7], 2)
    assert AuditEvent.objects.filter(action="scan.put_back", object_id=str(second.id)).exists()
    assert 'value="7"' not in clerk.get(f"/scanning/parts/{first.id}").content.decode()


# --- A cover sheet whose part has no content page -------------------------------------------------


@pytest.mark.django_db
def test_a_cover_sheet_followed_only_by_blank_pages_is_unassigned_with_the_reason(records_clerk):
    create_dossier(D1), create_dossier(D2)
    pages = [
        scan.cover(D1, "CLM", dt.date(2024, 3, 1)),  # 1
        scan.speckled_blank_page(seed=5),  # 2
        scan.blank_page(seed=6),  # 3
        scan.cover(D2, "DESC"),  # 4
        scan.text_page("DESCRIPTION"),  # 5
    ]
    batch = scan.split_now(scan.batch_pdf(pages))
    body = records_clerk.get(f"/api/v1/scan-batches/{batch.id}").json()

    [unassigned] = body["unassigned"]
    assert unassigned["source_pages"] == [2, 3]
    assert "cover sheet on page 1" in unassigned["reason"] and D1 in unassigned["reason"]
    assert "no content page" in unassigned["reason"]
    assert [d["dossier"] for d in body["documents"]] == [D2]
    # The clerk can still file it where the sheet said, if a page was not blank after all.
    part = ScanPart.objects.get(id=unassigned["part"])
    assert (part.dossier_key, part.type_code, part.official_date) == (
        D1,
        "CLM",
        dt.date(2024, 3, 1),
    )


@pytest.mark.django_db
def test_a_cover_sheet_followed_by_no_page_at_all_is_unassigned(records_clerk):
    create_dossier(D1), create_dossier(D2)
    pages = [scan.cover(D1, "CLM"), scan.cover(D2, "DESC"), scan.text_page("DESCRIPTION")]
    batch = scan.split_now(scan.batch_pdf(pages))
    body = records_clerk.get(f"/api/v1/scan-batches/{batch.id}").json()
    [unassigned] = body["unassigned"]
    assert unassigned["source_pages"] == [1] and "no page follows" in unassigned["reason"]
    assert [d["dossier"] for d in body["documents"]] == [D2]


@pytest.mark.django_db
def test_a_separator_right_after_a_cover_sheet_is_no_empty_part():
    create_dossier(D1)
    pages = [scan.cover(D1, "CLM"), scan.separator(), scan.text_page("ONE")]
    batch = scan.split_now(scan.batch_pdf(pages))
    assert [(p.state, p.source_pages) for p in parts(batch)] == [(PartState.QC, [3])]


# --- The OCR test's leftover-process check ------------------------------------------------------


def test_a_process_that_ends_while_inspected_is_no_leftover():
    """The check listed every process, then asked each for its parent: one that ended in between
    (the machine is shared) raised psutil.NoSuchProcess and failed the test."""
    child = subprocess.Popen(["sleep", "30"])
    listed = psutil.Process(child.pid)
    child.kill()
    child.wait()
    with pytest.raises(psutil.NoSuchProcess):
        listed.ppid()  # what the old check did
    assert stray_processes(("sleep",), [listed]) == []


def test_a_real_leftover_of_ingestion_is_still_found(tmp_path):
    folder = tmp_path / "ingest-left"
    folder.mkdir()
    # A shell that starts `sleep` in the background and exits: sleep is orphaned, adopted by init.
    started = subprocess.run(
        ["sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $!"], cwd=folder, capture_output=True
    )
    orphan = psutil.Process(int(started.stdout))  # its shell has exited: init adopted it
    try:
        assert orphan.ppid() == 1
        assert orphan.pid in [p["pid"] for p in stray_processes(("sleep",))]
    finally:
        orphan.kill()
