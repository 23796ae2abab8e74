"""The scanning pages in a real browser (Debian's Chromium via Playwright, as in
`tests/browser_support.py`): a clerk works through the QC queue — approves one document, re-splits
another, replaces a page with a rescan — and submits a batch whose split the page follows."""

from __future__ import annotations

import hashlib
import io
import re

import pikepdf
import pytest

from dossier import blobstore
from dossier.models import Document, DocumentState
from dossier.roles import Role
from scanning.models import PartState, ScanPart
from tests import scan_support as scan
from tests.browser_support import ARTIFACTS, PASSWORD, sign_in
from tests.conftest import create_dossier
from tests.factories import UserFactory
from tests.services import running_worker

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

D1 = "BG/P/2024/000123"
D2 = "BG/P/2024/000124"


def batch_bytes() -> bytes:
    return scan.batch_pdf(
        [
            scan.cover(D1, "CLM", skew=0.8),
            scan.text_page("CLAIMS 1"),
            scan.text_page("CLAIMS 2"),
            scan.cover(D2, "DESC", upside_down=True),
            scan.text_page("DESCRIPTION 1"),
            scan.text_page("DESCRIPTION 2"),
            scan.text_page("DRAWINGS 1", skew=-0.6),
            scan.text_page("DRAWINGS 2"),
        ]
    )


@pytest.fixture
def clerk_user(transactional_db):
    return UserFactory(username="rico", password=PASSWORD, role=Role.RECORDS_CLERK)


@pytest.fixture
def split_batch(transactional_db):
    create_dossier(D1), create_dossier(D2)
    return scan.split_now(batch_bytes(), station="S1")


def fingerprints(part: ScanPart) -> list[str]:
    part.refresh_from_db()
    content = b"".join(blobstore.read_chunks(part.content_id))
    with pikepdf.open(io.BytesIO(content)) as pdf:
        return [
            hashlib.sha256(next(iter(p.get_images().values())).read_raw_bytes()).hexdigest()
            for p in pdf.pages
        ]


def thumbnails_loaded(page) -> bool:
    return page.evaluate(
        "() => [...document.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0)"
    )


def test_quality_control_approve_resplit_and_replace_a_page(
    page, clerk_user, split_batch, tmp_path
):
    claims, description = ScanPart.objects.filter(batch=split_batch).order_by("index")
    assert (claims.page_count, description.page_count) == (2, 4)
    sign_in(page, "rico")

    # The queue: both parts, each with its first page as a thumbnail.
    page.get_by_role("link", name="Quality control").first.click()
    page.wait_for_url("**/scanning/qc")
    items = page.locator("#qc-queue .qc-item")
    assert items.count() == 2
    page.wait_for_function(
        "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"
    )

    # Approve the claims: filed, and the page moves on to the next open part of the batch.
    items.first.get_by_role("link", name=D1).click()
    page.wait_for_url(f"**/scanning/parts/{claims.id}")
    assert page.locator("#qc-pages .qc-page").count() == 2
    page.get_by_role("button", name="Approve and file").click()
    page.wait_for_url(f"**/scanning/parts/{description.id}")
    assert "approved" in page.locator(".messages").inner_text()
    claims.refresh_from_db()
    assert claims.state == PartState.APPROVED
    assert Document.objects.get(id=claims.document_id).state == DocumentState.ACTIVE

    # The description holds the drawings too: re-split it before page 3.
    assert page.locator("#qc-pages .qc-page").count() == 4
    page.get_by_role("button", name="Split before page 3").click()
    page.wait_for_selector(".messages .success")
    assert page.locator("#qc-pages .qc-page").count() == 2
    drawings = ScanPart.objects.get(batch=split_batch, index=2)
    assert drawings.page_count == 2 and drawings.state == PartState.QC
    assert drawings.document.dossier.key == "BG/P/2024/124"
    description.refresh_from_db()
    assert description.page_count == 2

    # Page 2 of the description was scanned badly: replace it with a rescan.
    before = fingerprints(description)
    rescan = tmp_path / "rescan.png"
    scan.text_page("DESCRIPTION 2 (RESCAN)").save(rescan, dpi=(300, 300))
    old_thumbnail = page.locator("#qc-pages .qc-page[data-page='2'] img").get_attribute("src")
    page.locator("#rescan-2").set_input_files(str(rescan))
    page.get_by_role("button", name="Replace page 2").click()
    page.wait_for_selector(".messages .success")
    after = fingerprints(description)
    assert after[0] == before[0] and after[1] != before[1] and len(after) == 2
    new_thumbnail = page.locator("#qc-pages .qc-page[data-page='2'] img").get_attribute("src")
    assert new_thumbnail != old_thumbnail  # the page's new image, not a cached one
    page.wait_for_function(
        "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert thumbnails_loaded(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "qc-part-after-split-and-rescan.png"), full_page=True)

    # What is left to check: the description and the drawings, nothing else.
    page.goto("/scanning/qc")
    assert page.locator("#qc-queue .qc-item").count() == 2
    page.wait_for_function(
        "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"
    )


@pytest.fixture(scope="module")
def scan_worker(django_db_setup, tmp_path_factory):
    with running_worker(
        tmp_path_factory.mktemp("celery") / "worker.log", queues=["celery", "scan"]
    ) as worker:
        yield worker


@pytest.mark.worker
def test_submit_a_batch_and_follow_its_split(page, clerk_user, scan_worker, tmp_path):
    create_dossier(D1), create_dossier(D2)
    scanned = tmp_path / "station-1-0042.pdf"
    scanned.write_bytes(batch_bytes())
    sign_in(page, "rico")
    page.get_by_role("link", name="Scanning").click()
    page.wait_for_url("**/scanning")
    page.get_by_label("Scanned file (multi-page PDF or TIFF)").set_input_files(str(scanned))
    page.get_by_label("Station", exact=True).fill("S1")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(r"/scanning/batches/[0-9a-f-]{36}$"))
    # The page follows the split and shows the parts once it is done.
    page.wait_for_selector("#batch-status[data-state='qc']", timeout=120_000)
    assert page.locator("#batch-progress").get_attribute("value") == "100"
    rows = page.locator("#parts tbody tr[data-part]")
    assert rows.count() == 2
    assert [rows.nth(i).get_attribute("data-state") for i in range(2)] == ["qc", "qc"]
    page.goto("/scanning")
    assert page.locator("#batches tbody tr[data-batch]").count() == 1
    assert page.locator("#backlog [data-figure='open_parts']").inner_text() == "2"
