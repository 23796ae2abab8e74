"""`/metrics` on the embedded default: real requests, an upload, a download, processing, a
fixity check and a scan batch, then a scrape, through the token."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dossier import fixity
from dossier.models import Version
from ingest.pipeline import run_to_completion
from operations.broker import queue_names
from tests.metrics.metrics_support import TOKEN, names, samples, value

DOSSIER_URL = "/api/v1/dossiers/BG/P/2024/000123"


@pytest.fixture
def metrics_on(settings):
    settings.EDMS_METRICS_TOKEN = TOKEN


def scrape(client=None) -> dict:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


def test_without_a_token_configured_there_are_no_metrics(db, settings):
    settings.EDMS_METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


def test_the_token_is_required(db, metrics_on):
    missing = Client().get("/metrics")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert b"edms_" not in missing.content
    wrong = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x")
    assert wrong.status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_requests_uploads_downloads_and_processing_are_counted(registry, dossier, metrics_on):
    before = scrape()
    content = os.urandom(3000)
    upload = SimpleUploadedFile("claims.txt", b"Claims: a widget. " + content, "text/plain")
    registered = registry.post(
        f"{DOSSIER_URL}/documents", {"file": upload, "type": "CLM"}, format="multipart"
    )
    assert registered.status_code == 201, registered.content
    size = len(b"Claims: a widget. " + content)
    document_id = registered.json()["id"]
    version = Version.objects.get(document_id=document_id)
    processing = run_to_completion(version.id)
    downloaded = registry.get(f"/api/v1/documents/{document_id}/content")
    assert downloaded.status_code == 200
    assert len(b"".join(downloaded.streaming_content)) == size
    assert registry.get("/api/v0/nothing-here").status_code == 404
    assert fixity.check_blob(version.blob) is None
    after = scrape()

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    # By route (the URL pattern), method and status: no dossier key or id in any label.
    routes = {dict(labels).get("route") for name, labels in after if name.startswith("edms_http")}
    assert not [route for route in routes if "000123" in route or document_id in route]
    upload_route = "/api/v1/dossiers/(?P<key>.+)/documents"
    assert upload_route in routes, sorted(routes)
    assert grew("edms_http_requests_total", route=upload_route, method="POST", status="201") == 1
    assert grew("edms_http_request_duration_seconds_count", route=upload_route, status="201") == 1
    assert grew("edms_http_request_duration_seconds_sum", route=upload_route, status="201") > 0
    assert grew("edms_http_requests_total", route="unmatched", method="GET", status="404") == 1

    assert grew("edms_uploads_total") == 1
    assert grew("edms_upload_bytes_total") == size
    assert grew("edms_downloads_total", kind="whole") == 1
    assert grew("edms_download_bytes_total") == size
    assert grew("edms_fixity_checks_total", result="ok") == 1

    # Every step the run recorded was observed, by its name and outcome.
    assert processing.steps
    for step in processing.steps:
        count = "edms_processing_step_duration_seconds_count"
        assert grew(count, step=step["name"], state=step["state"]) >= 1, step

    # Scrape-time: from the database and the broker, each collector timed and up.
    for state in ("pending", "running", "failed"):
        assert ("edms_versions", frozenset({("state", state)})) in after
    assert value(after, "edms_broker_up") == 1
    for queue in queue_names():
        assert value(after, "edms_queue_depth", queue=queue) >= 0
        assert ("edms_queue_depth", frozenset({("queue", queue)})) in after
        assert ("edms_queue_oldest_task_age_seconds", frozenset({("queue", queue)})) in after
    assert value(after, "edms_index_lag_events") >= 1  # registered and processed, not indexed
    assert value(after, "edms_index_lag_seconds") >= 0
    for collector in ("processing", "queues", "index"):
        assert value(after, "edms_metrics_collector_up", collector=collector) == 1
        # Cheap and bounded: well under a second each here (the broker timeout is 1 s).
        assert value(after, "edms_metrics_collector_duration_seconds", collector=collector) < 1.0
    assert {"edms_ocr_pages_total", "edms_webhook_deliveries_total"} <= names(after)


def test_zip_downloads_are_counted_with_their_bytes(registry, dossier, metrics_on):
    """An export is a download too: counted as a ZIP, every byte sent included."""
    upload = SimpleUploadedFile("claims.txt", b"Claims: a widget.", "text/plain")
    filed = registry.post(
        f"{DOSSIER_URL}/documents", {"file": upload, "type": "CLM"}, format="multipart"
    )
    assert filed.status_code == 201, filed.content
    before = scrape()
    exported = registry.get(f"{DOSSIER_URL}/export")
    assert exported.status_code == 200
    size = len(b"".join(exported.streaming_content))
    after = scrape()
    assert (
        value(after, "edms_downloads_total", kind="zip")
        - value(before, "edms_downloads_total", kind="zip")
        == 1
    )
    assert (
        value(after, "edms_download_bytes_total") - value(before, "edms_download_bytes_total")
        == size
    )
    assert value(after, "edms_downloads_total", kind="whole") == value(
        before, "edms_downloads_total", kind="whole"
    )


def test_scanned_pages_are_counted_by_station(db, metrics_on):
    from tests.scan_support import batch_pdf, blank_page, split_now, text_page

    before = scrape()
    split_now(batch_pdf([text_page("A"), blank_page(), text_page("B")]), station="desk-7")
    after = scrape()
    grown = value(after, "edms_scan_pages_total", station="desk-7") - value(
        before, "edms_scan_pages_total", station="desk-7"
    )
    assert grown == 3


DASHBOARD = Path(__file__).resolve().parents[2] / "infra" / "grafana" / "edms-dashboard.json"
METRIC_NAME = re.compile(r"\bedms_[a-z0-9_]+")


def dashboard_metrics() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    return {name for expr in expressions for name in METRIC_NAME.findall(expr)}


def test_the_dashboard_uses_only_metrics_a_scrape_has(registry, dossier, metrics_on):
    from tests.scan_support import batch_pdf, split_now, text_page

    # Enough real work that every labelled series exists: an upload, its processing, a
    # download, a fixity check, a scan batch.
    upload = SimpleUploadedFile("claims.txt", b"Claims: a widget with a handle.", "text/plain")
    registered = registry.post(
        f"{DOSSIER_URL}/documents", {"file": upload, "type": "CLM"}, format="multipart"
    )
    assert registered.status_code == 201, registered.content
    version = Version.objects.get(document_id=registered.json()["id"])
    run_to_completion(version.id)
    assert registry.get(f"/api/v1/documents/{version.document_id}/content").status_code == 200
    fixity.check_blob(version.blob)
    split_now(batch_pdf([text_page("A")]), station="desk-1")

    used = dashboard_metrics()
    assert len(used) >= 15  # every family of issue 17 has a panel
    assert used - names(scrape()) == set()


def test_edms_run_starts_with_no_metric_files_of_an_earlier_run(settings, tmp_path):
    from edms.launcher import empty_metrics_dir

    # Not the directory this test process writes to: its own files are open.
    settings.EDMS_METRICS_DIR = tmp_path / "metrics"
    settings.EDMS_METRICS_DIR.mkdir()
    for name in ("counter_123.db", "histogram_123.db"):
        (settings.EDMS_METRICS_DIR / name).write_bytes(b"\0" * 16)
    (settings.EDMS_METRICS_DIR / "README").write_text("not ours")
    empty_metrics_dir()
    assert sorted(p.name for p in settings.EDMS_METRICS_DIR.iterdir()) == ["README"]
