"""Bulk work cannot starve interactive work: with a backlog of bulk versions queued and only the
interactive worker of `EDMS_LOCAL_WORKERS` running (as `edms run` starts it: its queues), an
upload over the API is processed, and the backlog is left to the workers whose work it is.

No timing: the interactive worker never consumes a bulk queue, so however long the backlog, the
upload is the next task it sees.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from dossier import lanes
from dossier.models import Version
from ingest.models import Processing, State
from tests.conftest import create_dossier, file_document
from tests.services import running_worker, wait_until

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

KEY = "BG/P/2024/8899"
BACKLOG = 12
PROCESS_TIMEOUT = 90.0


@pytest.fixture
def interactive_worker(django_db_setup, tmp_path):
    (entry,) = [w for w in settings.EDMS_LOCAL_WORKERS if w["name"] == "interactive"]
    with running_worker(tmp_path / "worker.log", queues=entry["queues"]) as worker:
        yield worker


def test_an_interactive_upload_is_processed_behind_a_bulk_backlog(interactive_worker, registry):
    dossier = create_dossier(KEY)
    with lanes.bulk():
        for n in range(BACKLOG):
            file_document(dossier, f"Backfile page {n}.".encode(), filename=f"old-{n}.txt")
    # Each filing's event was dispatched as it committed: queued to the bulk queue `extract`.
    assert Processing.objects.filter(lane=lanes.Lane.BULK, state=State.PENDING).count() == BACKLOG

    upload = SimpleUploadedFile("reply.txt", b"Reply to the office action.", "text/plain")
    response = registry.post(
        f"/api/v1/dossiers/{KEY}/documents", {"type": "RESP", "file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.content

    version = Version.objects.get(document_id=response.json()["id"])
    processing = wait_until(
        lambda: Processing.objects.filter(version=version, state=State.DONE).first(),
        timeout=PROCESS_TIMEOUT,
        what="the interactive upload to be processed",
        explain=interactive_worker.log_tail,
    )
    assert processing.lane == lanes.Lane.INTERACTIVE and processing.text_chars > 0
    # The backlog waits for the bulk workers: the interactive worker took none of it.
    untouched = Processing.objects.filter(lane=lanes.Lane.BULK, state=State.PENDING, attempts=0)
    assert untouched.count() == BACKLOG
    interactive_worker.assert_alive()
