"""A version interrupted by a worker's death resumes as soon as the worker is back.

A real worker (same hostname each time, as the supervisor restarts it) extracts with an
extractor that waits for a gate file, so the test can SIGKILL the whole worker mid-run. The
version is left `running` under that worker's name; a new worker with the same hostname queues
it again as it gets ready (`ingest.sweeper.resume_interrupted`) and finishes it — without the
sweeper, and long before EDMS_REQUEUE_AFTER (15 min) or even the heartbeat lease would pass.
"""

from __future__ import annotations

import os
import signal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ingest.models import Processing, State
from tests.services import running_worker, wait_until

# Where an upload's extraction goes (the interactive lane), and bulk work's.
QUEUES = ["interactive", "extract"]

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DOSSIER_KEY = "BG/P/2024/6611"
TIMEOUT = 60.0


def _processing(document_id: str) -> Processing | None:
    return Processing.objects.filter(version__document_id=document_id).first()


def test_an_interrupted_version_resumes_when_its_worker_returns(registry, tmp_path):
    gate = tmp_path / "gate"
    env = {"DJANGO_SETTINGS_MODULE": "tests.gated_worker_settings", "EDMS_TEST_GATE": str(gate)}
    created = registry.put(f"/api/v1/dossiers/{DOSSIER_KEY}", {"ip_type": "patent"}, format="json")
    assert created.status_code == 201, created.content

    with running_worker(
        tmp_path / "first.log", queues=["extract", "interactive"], env=env
    ) as first:
        filed = registry.post(
            f"/api/v1/dossiers/{DOSSIER_KEY}/documents",
            {"type": "CLM", "file": SimpleUploadedFile("claims.txt", b"A latch.")},
            format="multipart",
        )
        assert filed.status_code == 201, filed.content
        document_id = filed.json()["id"]
        started = wait_until(
            lambda: (row := _processing(document_id)) and row.state == State.RUNNING and row,
            timeout=TIMEOUT,
            what="the first worker to start extracting",
            explain=first.log_tail,
        )
        assert started.runner_pid == first.process.pid  # a solo pool: the worker itself
        os.killpg(first.process.pid, signal.SIGKILL)  # the worker and everything it started
        first.process.wait()

    interrupted = _processing(document_id)
    assert interrupted.state == State.RUNNING  # nobody is left to finish or release it
    gate.touch()

    with running_worker(
        tmp_path / "second.log", queues=["extract", "interactive"], env=env
    ) as second:
        done = wait_until(
            lambda: (row := _processing(document_id)) and row.state == State.DONE and row,
            timeout=TIMEOUT,
            what="the returning worker to finish the interrupted version",
            explain=second.log_tail,
        )
    assert done.runner_host == started.runner_host  # the same worker, back
    assert done.runner_pid != started.runner_pid  # in a new incarnation
    assert done.attempts == 2 and done.text_chars == len("opened at last")
    assert "queued again 1 interrupted version" in (tmp_path / "second.log").read_text()
