"""End to end through a real Celery worker: a batch posted over the API is split in the
background (queue `scan`), the clerk approves a document, and ingestion (queue `extract`) then
processes exactly the approved version — nothing ran for it while it was held."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from dossier.models import Event, EventKind, Version
from ingest.models import Processing, State
from tests import scan_support as scan
from tests.conftest import create_dossier
from tests.services import running_worker, wait_until

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

D1 = "BG/P/2024/000321"


# For the test only, not the module: it stops (its renditions and sweeps with it) before the
# test's database is flushed; a worker still writing deadlocked PostgreSQL's TRUNCATE.
@pytest.fixture
def scan_worker(django_db_setup, tmp_path_factory):
    with running_worker(
        tmp_path_factory.mktemp("celery") / "worker.log",
        queues=["celery", "extract", "ocr", "render", "scan", "interactive"],
    ) as worker:
        yield worker


def test_a_batch_is_split_in_the_background_and_processed_after_approval(
    scan_worker, records_clerk
):
    create_dossier(D1)
    content = scan.batch_pdf(
        [
            scan.cover(D1, "CLM", dt.date(2024, 6, 1), skew=0.8),
            scan.text_page("FIRST"),
            scan.text_page("SECOND"),
            scan.separator(upside_down=True),
            scan.text_page("THIRD"),
        ]
    )
    upload = io.BytesIO(content)
    upload.name = "batch.pdf"
    response = records_clerk.post("/api/v1/scan-batches", {"file": upload}, format="multipart")
    assert response.status_code == 202, response.content
    location = response["Location"]

    def split():
        scan_worker.assert_alive()
        body = records_clerk.get(location).json()
        return body if body["state"] in ("qc", "failed") else None

    batch = wait_until(
        split, timeout=60, what="the batch to be split", explain=scan_worker.log_tail
    )
    assert batch["state"] == "qc", batch["error"]
    assert batch["progress"] == 100
    assert [(d["type"], d["pages"]) for d in batch["documents"]] == [("CLM", 2), ("CLM", 1)]
    first = batch["documents"][0]
    held = Version.objects.get(document_id=first["id"])
    assert not Processing.objects.filter(version=held).exists()

    approved = records_clerk.post(f"/api/v1/scan-parts/{first['part']}/approve")
    assert approved.status_code == 200, approved.content

    def processed():
        scan_worker.assert_alive()
        found = Processing.objects.filter(version=held).first()
        return found if found and found.state in (State.DONE, State.FAILED) else None

    processing = wait_until(
        processed,
        timeout=180,  # a scan is OCR'd: two 300 dpi pages on a busy 2-core machine
        what="ingestion of the approved version",
        explain=scan_worker.log_tail,
    )
    assert processing.state == State.DONE, processing.reason
    assert processing.page_count == 2
    assert held.renditions.filter(kind="pdfa").exists(), "the scan was OCR'd to PDF/A"
    registered = Event.objects.filter(kind=EventKind.DOCUMENT_REGISTERED)
    assert [str(e.document_id) for e in registered] == [first["id"]]
