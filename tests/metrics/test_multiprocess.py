"""Several processes, one `/metrics`: a real gunicorn with two workers and a separate process
(as a Celery worker is) each count in their own files, and a scrape of either web worker adds
them all up (the client library's multiprocess mode)."""

from __future__ import annotations

import http.client
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.gunicorn_server import gunicorn_server, process_env
from tests.metrics.metrics_support import TOKEN, samples, value

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# What the test sends: refused scrapes (no token), a route and status that the server's start-up
# probes (/healthz, some of which may be answered late) never add to.
REFUSED = ("edms_http_requests_total", {"route": "/metrics", "method": "GET", "status": "401"})


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def scrape(port: int) -> dict:
    status, body = get(port, "/metrics", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body
    return samples(body.decode())


def refused_count_in(path) -> float:
    """The refused scrapes counted in one process's counter file alone."""
    name, labels = REFUSED
    for family in MultiProcessCollector.merge([str(path)]):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_two_web_workers_and_another_process_add_up(tmp_path):
    metrics_dir = tmp_path / "metrics"
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "EDMS_METRICS_TOKEN": TOKEN}
    with gunicorn_server(tmp_path, workers=2, env=env) as server:
        workers = [process.pid for process in server.workers()]
        assert len(workers) == 2
        before = value(scrape(server.port), REFUSED[0], **REFUSED[1])

        # Concurrent connections until both workers have answered some (a sync worker takes
        # one connection at a time, so the other takes the next).
        sent = 0
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(20):
                statuses = list(pool.map(lambda _: get(server.port, "/metrics")[0], range(40)))
                assert statuses == [401] * 40
                sent += 40
                files = [metrics_dir / f"counter_{pid}.db" for pid in workers]
                if all(path.exists() and refused_count_in(path) > 0 for path in files):
                    break
        per_worker = [refused_count_in(metrics_dir / f"counter_{pid}.db") for pid in workers]
        assert all(count > 0 for count in per_worker), per_worker

        # Another process, as a Celery worker counts OCR pages.
        worker = (
            "import django; django.setup()\n"
            "from metrics.instruments import OCR_PAGES\n"
            "OCR_PAGES.inc(7)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", worker], env={**process_env(), **env}, timeout=120
        )
        assert done.returncode == 0

        found = scrape(server.port)
        # Every request counted once, whichever worker answered it.
        assert value(found, REFUSED[0], **REFUSED[1]) - before == sent
        assert sum(per_worker) == value(found, REFUSED[0], **REFUSED[1])
        assert value(found, "edms_ocr_pages_total") == 7
        assert (
            value(found, "edms_http_requests_total", route="/metrics", method="GET", status="200")
            >= 1
        )
