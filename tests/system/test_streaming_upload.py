"""Uploads stream through the server: a 200 MB body does not grow the worker's memory.

A real gunicorn worker receives the upload from a client that itself streams from a generator;
a sampler thread watches the worker's resident set size the whole time. The bound (64 MB, the
issue's figure for a 2 GB upload) is far below the upload's size, so reading the body into
memory anywhere on the way (parser, upload handler, hashing, promotion) fails the test.
"""

from __future__ import annotations

import json
import threading

import psutil
import pytest

from dossier import blobstore
from dossier.models import Version
from tests.factories import DocumentFactory, DossierFactory
from tests.gunicorn_server import (
    gunicorn_server,
    pattern_chunks,
    pattern_digest,
    send_body,
    start_upload,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

UPLOAD_MB = 200
MEMORY_BOUND = 64 * 1024 * 1024


class RssSampler(threading.Thread):
    """Samples the largest resident set size among `processes` until stopped."""

    def __init__(self, processes: list[psutil.Process]):
        super().__init__(daemon=True)
        self.processes = processes
        self.peak = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            for process in self.processes:
                try:
                    self.peak = max(self.peak, process.memory_info().rss)
                except psutil.NoSuchProcess:
                    continue
            self.samples += 1
            self._stop_event.wait(0.01)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def post_version(server, document_id, *, seed: str, megabytes: int, key: str) -> tuple[int, dict]:
    conn = server.connect()
    try:
        start_upload(
            conn,
            f"/api/v1/documents/{document_id}/versions",
            size=megabytes * 1024 * 1024,
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/octet-stream",
                "X-Filename": f"{seed}.bin",
            },
        )
        send_body(conn, pattern_chunks(seed, megabytes))
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def test_a_200_mb_upload_does_not_grow_the_server_memory(registry_key, tmp_path):
    document = DocumentFactory(dossier=DossierFactory(key="BG/P/2024/4242"))
    with gunicorn_server(tmp_path) as server:
        # Warm the worker up on the same code path, so imports and caches are not counted.
        status, _ = post_version(server, document.id, seed="warm-up", megabytes=2, key=registry_key)
        assert status == 201, server.log_tail()
        workers = server.workers()
        assert workers, "gunicorn has no worker process"
        baseline = max(worker.memory_info().rss for worker in workers)

        sampler = RssSampler(workers)
        sampler.start()
        try:
            status, body = post_version(
                server, document.id, seed="big", megabytes=UPLOAD_MB, key=registry_key
            )
        finally:
            peak = sampler.stop()

    assert status == 201, (body, server.log_tail())
    expected = pattern_digest("big", UPLOAD_MB)
    assert body["sha256"] == expected
    assert body["size"] == UPLOAD_MB * 1024 * 1024
    assert body["version"] == 3
    assert sampler.samples > 10, "the sampler did not watch the upload"
    growth = peak - baseline
    assert growth < MEMORY_BOUND, (
        f"the worker grew by {growth / 2**20:.0f} MB during a {UPLOAD_MB} MB upload "
        f"(bound {MEMORY_BOUND / 2**20:.0f} MB)"
    )
    stored = Version.objects.get(document=document, number=3)
    assert stored.blob_id == expected
    assert blobstore.exists(expected)


@pytest.fixture(autouse=True)
def forget_uploads():
    """Remove the uploaded content from blob storage afterwards (its rows are gone by then)."""
    yield
    for seed, megabytes in (("warm-up", 2), ("big", UPLOAD_MB)):
        blobstore.blob_storage().delete(blobstore.storage_key(pattern_digest(seed, megabytes)))
