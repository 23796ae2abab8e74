"""A backfile imported while people go on filing, and a worker killed in the middle: nothing is
lost, nothing is filed or processed twice, and the people's documents are searchable.

`edms run` runs for real (its supervisor, its workers, its broker) and `edms import` files 300
one-page PDFs in the bulk lane, while this test uploads a document through the API every few
seconds (the interactive lane) and SIGKILLs the main worker a quarter of the way through; the
supervisor starts it again. On the embedded leg everything is the embedded default under a fresh
data directory; on the production leg `edms run` uses the leg's PostgreSQL (a database of its
own), its Redis (a database number of its own) and its S3 bucket (a prefix of its own).
"""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from tests.ingest_support import one_page_pdf
from tests.launcher_support import EDMS, EdmsRun, edms_running, embedded_env, production_env
from tests.services import wait_until

DOCUMENTS = 300
DOSSIERS = 30
UPLOAD_EVERY_S = 3.0
KILL_AFTER_SEARCHABLE = DOCUMENTS // 4
SETTLE_TIMEOUT = 900.0  # every document processed and indexed, after the import ends
BATCH_TOKEN = "backfilebatch"


def write_backfile(folder: Path) -> Path:
    """DOCUMENTS PDFs over DOSSIERS dossiers, listed by a CSV manifest."""
    folder.mkdir()
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file_number", "type", "date", "path", "ip_type"])
        for n in range(DOCUMENTS):
            name = f"doc{n:04d}.pdf"
            one_page_pdf(folder / name, f"Backfile {BATCH_TOKEN} page token bulktok{n:04d}")
            dossier = f"BG/P/2019/{n % DOSSIERS + 1:06d}"
            writer.writerow([dossier, "DESC", "2019-05-01", name, "patent"])
    return manifest


def query(run: EdmsRun, sql: str) -> list[tuple]:
    """Read `edms run`'s own database directly (what no API shows: processing attempts)."""
    if "DATABASE_URL" in run.env:
        with psycopg.connect(run.env["DATABASE_URL"]) as connection:
            return connection.execute(sql).fetchall()
    with sqlite3.connect(run.data_dir / "edms.sqlite3") as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture
def edms_run(tmp_path) -> Iterator[EdmsRun]:
    data_dir = tmp_path / "data"
    if os.environ.get("DATABASE_URL"):
        with production_env(data_dir, "bulk", broker_db=13) as env:
            with edms_running(tmp_path, env) as run:
                yield run
    else:
        with edms_running(tmp_path, embedded_env(data_dir)) as run:
            yield run


# --- The interactive client ------------------------------------------------------------------


class InteractiveClient(threading.Thread):
    """Files one document through the API every UPLOAD_EVERY_S seconds until stopped."""

    def __init__(self, edms: EdmsRun, folder: Path):
        super().__init__(daemon=True)
        self.edms = edms
        self.folder = folder
        self.tokens: list[str] = []
        self.errors: list[str] = []
        self.stopping = threading.Event()
        self.headers = {"Authorization": f"Bearer {edms.api_key()}"}

    def run(self) -> None:
        key = "BG/P/2024/000777"
        answer = requests.put(
            f"{self.edms.url}/api/v1/dossiers/{key}",
            json={"ip_type": "patent", "title": "Filed while a backfile is imported"},
            headers=self.headers,
            timeout=60,
        )
        if answer.status_code not in (200, 201):
            self.errors.append(f"dossier: {answer.status_code} {answer.text[:200]}")
            return
        while not self.stopping.wait(UPLOAD_EVERY_S):
            token = f"livetok{len(self.tokens):03d}"
            path = self.folder / f"{token}.pdf"
            one_page_pdf(path, f"Reply filed today {token}")
            with open(path, "rb") as handle:
                answer = requests.post(
                    f"{self.edms.url}/api/v1/dossiers/{key}/documents",
                    data={"type": "CLM"},
                    files={"file": (path.name, handle, "application/pdf")},
                    headers=self.headers,
                    timeout=60,
                )
            if answer.status_code == 201:
                self.tokens.append(token)
            else:
                self.errors.append(f"{token}: {answer.status_code} {answer.text[:200]}")


def hits(edms: EdmsRun, q: str) -> int:
    answer = edms.get(
        "/api/v1/search",
        params={"q": q, "page_size": 1},
        headers={"Authorization": f"Bearer {edms.api_key()}"},
    )
    return answer.json()["count"] if answer.status_code == 200 else -1


def unfinished(edms: EdmsRun) -> str:
    """What a failure needs to be understood: the work not done, what the index lacks, and the
    log's lines that are not the web server's access log."""
    rows = query(
        edms,
        "SELECT version_id, state, stage, attempts, task_id, queued_at, heartbeat_at, "
        "runner_host, runner_pid, reason FROM ingest_processing WHERE state != 'done'",
    )
    unindexed = query(
        edms,
        "SELECT id, state, revision FROM dossier_document WHERE id NOT IN "
        "(SELECT document_id FROM search_indexeddocument)",
    )
    log = [line for line in edms.log().splitlines() if '" 200 ' not in line]
    return f"processing not done: {rows}\nnot in the index: {unindexed}\n" + "\n".join(log[-150:])


def import_backfile(edms: EdmsRun, manifest: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [EDMS, "import", str(manifest)],
        env=edms.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.worker
def test_a_bulk_import_beside_interactive_uploads_survives_a_killed_worker(edms_run, tmp_path):
    edms = edms_run
    manifest = write_backfile(tmp_path / "backfile")
    wait_until(lambda: edms.workers_ready(2), timeout=180, what="workers", explain=edms.log_tail)

    client = InteractiveClient(edms, tmp_path)
    client.start()
    importer = import_backfile(edms, manifest)
    try:
        # A quarter of the way through (that much of the backfile searchable), the main worker
        # dies with what it was running.
        wait_until(
            lambda: hits(edms, BATCH_TOKEN) >= KILL_AFTER_SEARCHABLE,
            timeout=SETTLE_TIMEOUT,
            what="a quarter of the backfile to be searchable",
            explain=edms.log_tail,
        )
        [worker] = edms.children("main@%h")
        worker.send_signal(signal.SIGKILL)
        wait_until(
            lambda: [p for p in edms.children("main@%h") if p.pid != worker.pid],
            timeout=60,
            what="the supervisor to start the main worker again",
            explain=edms.log_tail,
        )
        output, _ = importer.communicate(timeout=SETTLE_TIMEOUT)
    finally:
        client.stopping.set()
        client.join(timeout=120)
        if importer.poll() is None:
            importer.kill()
    assert importer.returncode == 0, output[-3000:]
    assert f"{DOCUMENTS} filed, 0 skipped" in output, output[-3000:]
    assert not client.errors, client.errors
    assert client.tokens, "no interactive upload was made"

    # Nothing lost: every document of both kinds becomes searchable, each exactly once.
    wait_until(
        lambda: hits(edms, BATCH_TOKEN) == DOCUMENTS,
        timeout=SETTLE_TIMEOUT,
        what=f"all {DOCUMENTS} imported documents in search",
        explain=lambda: f"{hits(edms, BATCH_TOKEN)} found\n{edms.log_tail()}",
    )
    for token in client.tokens:
        wait_until(
            lambda token=token: hits(edms, token) == 1,
            timeout=120,
            what=f"the interactive upload {token} in search",
            explain=edms.log_tail,
        )
    filed = DOCUMENTS + len(client.tokens)
    [(documents,)] = query(edms, "SELECT count(*) FROM dossier_document")
    assert documents == filed
    [(done, attempts)] = query(
        edms, "SELECT count(*), sum(attempts) FROM ingest_processing WHERE state = 'done'"
    )
    assert done == filed
    # Nothing processed twice but what the killed worker was running (its two processes).
    assert attempts - done <= 2, f"{attempts - done} extractions ran again"

    # Run again: everything is filed already, so nothing is filed twice.
    again = import_backfile(edms, manifest)
    output, _ = again.communicate(timeout=300)
    assert again.returncode == 0, output[-3000:]
    assert f"0 filed, {DOCUMENTS} skipped" in output, output[-3000:]
