"""Health (issue 17): `/healthz` says the process answers, `/readyz` whether the services edms
needs answer, and `edms check --deploy` fails as `/readyz` would.

Real services throughout: the session's private Redis is stopped and started again, the search
engine and the Tika server are named at a closed port or at a real server (a node started with
infra/opensearch.sh, a server started with infra/tika-server.sh: EDMS_TEST_OPENSEARCH_URL,
EDMS_TEST_TIKA_SERVER_URL), the blob directory is a real one or a file in its way.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from edms.localbroker import LocalBroker, broker_url
from edms.readiness import check_broker, run_checks

SERVICES = {"database", "broker", "blob_store", "search"} | (
    {"tika"} if settings.TIKA_SERVER_URL else set()
)
OPENSEARCH_URL = os.environ.get("EDMS_TEST_OPENSEARCH_URL", "")
TIKA_URL = os.environ.get("EDMS_TEST_TIKA_SERVER_URL", "")


def closed_port() -> int:
    """A loopback port nothing listens on (bound for a moment, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def opensearch(url: str) -> dict:
    return {
        "BACKEND": "search.backends.opensearch.Backend",
        "OPTIONS": {"hosts": url, "index_prefix": "edms-readyz-test"},
    }


def tika(url: str) -> dict:
    return {
        "TIKA_SERVER_URL": url,
        "EDMS_EXTRACTOR": {
            "BACKEND": "ingest.extractors.tika_server.Extractor",
            "OPTIONS": {"url": url},
        },
    }


def readyz() -> tuple[int, dict, dict]:
    """The status, the body and the checks by name of `GET /readyz` (no credentials)."""
    response = Client().get("/readyz")
    body = response.json()
    return response.status_code, body, {check["name"]: check for check in body["checks"]}


def assert_not_ready(failing: str) -> dict:
    """`/readyz` is a 503 problem naming `failing` alone; every check is still listed."""
    status, body, checks = readyz()
    assert status == 503, body
    assert body["type"] == "/api/v1/problems/not-ready"
    assert body["detail"] == f"not answering: {failing}"
    assert not checks[failing]["ok"]
    assert checks[failing]["error"]
    assert all(check["ok"] for name, check in checks.items() if name != failing), checks
    return checks[failing]


def assert_ready() -> dict:
    status, body, checks = readyz()
    assert status == 200, body
    assert body["status"] == "ready"
    for check in checks.values():
        assert check["ok"] and check["error"] is None
        assert 0 <= check["latency_ms"] < settings.EDMS_READINESS_TIMEOUT * 1000
    return checks


@pytest.mark.django_db
def test_healthz_answers_without_checking_anything():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_when_every_service_answers():
    checks = assert_ready()
    assert set(checks) == SERVICES


@pytest.mark.django_db
def test_not_ready_while_the_broker_is_stopped(local_broker):
    if local_broker is None:
        pytest.skip("CELERY_BROKER_URL names a shared broker: only the private one is stopped")
    local_broker.stop()
    try:
        failed = assert_not_ready("broker")
    finally:
        local_broker.start()
    assert "Error" in failed["error"] or "refused" in failed["error"].lower()
    assert_ready()  # recovers once it answers again


def test_the_broker_check_follows_a_broker_stopped_and_started_again():
    """On every leg, production's included: a private Redis of this test's own, by URL."""
    data = Path(tempfile.mkdtemp(prefix="readyz-", dir="/tmp"))  # a socket path is short
    broker = LocalBroker.for_data_dir(data, log_path=data / "redis.log")
    url = broker_url(broker.socket)
    checks = {"broker": lambda timeout: check_broker(timeout, url=url)}
    broker.start()
    try:
        assert run_checks(checks)[0].ok
        broker.stop()
        stopped = run_checks(checks)[0]
        assert not stopped.ok and "broker.sock" in stopped.error
        broker.start()
        assert run_checks(checks)[0].ok
    finally:
        broker.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.mark.django_db
def test_not_ready_while_the_search_cluster_does_not_answer():
    with override_settings(EDMS_SEARCH=opensearch(f"http://127.0.0.1:{closed_port()}")):
        failed = assert_not_ready("search")
    assert "unreachable" in failed["error"]


@pytest.mark.skipif(not OPENSEARCH_URL, reason="no OpenSearch node: set EDMS_TEST_OPENSEARCH_URL")
@pytest.mark.django_db
def test_ready_again_when_the_search_cluster_answers():
    with override_settings(EDMS_SEARCH=opensearch(OPENSEARCH_URL)):
        assert_ready()


OPENSEARCH_SH = Path(settings.BASE_DIR) / "infra" / "opensearch.sh"
LAUNCHER = Path(settings.BASE_DIR) / "infra" / "opensearch" / "target" / "opensearch-node-1.jar"


def free_port_pair() -> int:
    """An HTTP port whose transport port (100 above, infra/opensearch.sh) is free as well."""
    for _ in range(50):
        port = closed_port()
        with socket.socket() as transport:
            try:
                transport.bind(("127.0.0.1", port + 100))
            except OSError:
                continue
        return port
    raise RuntimeError("no free pair of ports")


def opensearch_sh(*args: str) -> None:
    subprocess.run(
        ["bash", str(OPENSEARCH_SH), *args], check=True, capture_output=True, timeout=360
    )


@pytest.mark.skipif(
    not (OPENSEARCH_URL and LAUNCHER.exists()),
    reason="runs where OpenSearch tests run (EDMS_TEST_OPENSEARCH_URL) and its launcher is built",
)
@pytest.mark.django_db
def test_not_ready_while_an_opensearch_node_is_stopped_and_ready_once_it_is_back(tmp_path):
    """A node of its own (infra/opensearch.sh), stopped and started again: the cluster others
    use is left alone."""
    port, home = free_port_pair(), str(tmp_path / "opensearch")
    opensearch_sh("start", "--port", str(port), "--dir", home)
    try:
        with override_settings(EDMS_SEARCH=opensearch(f"http://127.0.0.1:{port}")):
            assert_ready()
            opensearch_sh("stop", "--dir", home)
            assert "unreachable" in assert_not_ready("search")["error"]
            opensearch_sh("start", "--port", str(port), "--dir", home)
            assert_ready()
    finally:
        opensearch_sh("stop", "--dir", home)


@pytest.mark.django_db
def test_a_tika_server_pointing_nowhere_fails_the_tika_check():
    with override_settings(**tika(f"http://127.0.0.1:{closed_port()}")):
        failed = assert_not_ready("tika")
    assert "Tika server" in failed["error"]


@pytest.mark.skipif(not TIKA_URL, reason="no Tika server: set EDMS_TEST_TIKA_SERVER_URL")
@pytest.mark.django_db
def test_a_tika_server_that_answers_passes():
    with override_settings(**tika(TIKA_URL)):
        assert "tika" in assert_ready()


@pytest.mark.django_db
def test_a_blob_directory_that_cannot_be_made_fails_the_blob_check(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("in the way")
    blobs = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    with override_settings(
        STORAGES={**settings.STORAGES, "blobs": {**blobs, "OPTIONS": {"location": str(blocker)}}}
    ):
        assert "FileExistsError" in assert_not_ready("blob_store")["error"]
    with override_settings(
        STORAGES={**settings.STORAGES, "blobs": {**blobs, "OPTIONS": {"location": str(tmp_path)}}}
    ):
        assert_ready()
        assert list(tmp_path.iterdir()) == [blocker]  # the probe leaves nothing behind


@pytest.mark.skipif(
    "bucket_name" not in settings.STORAGES["blobs"]["OPTIONS"], reason="blobs are not on S3"
)
@pytest.mark.django_db
def test_a_missing_bucket_fails_the_blob_check():
    blobs = settings.STORAGES["blobs"]
    missing = {**blobs, "OPTIONS": {**blobs["OPTIONS"], "bucket_name": "edms-no-such-bucket"}}
    with override_settings(STORAGES={**settings.STORAGES, "blobs": missing}):
        failed = assert_not_ready("blob_store")
    assert "404" in failed["error"] or "Not Found" in failed["error"]
    assert blobs["OPTIONS"]["secret_key"] not in failed["error"]


@pytest.mark.django_db
def test_a_service_that_hangs_fails_within_the_deadline():
    """A listener that never answers (accepted by the kernel, never read) fails its check at
    the deadline; the others, run at the same time, still answer in time."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with override_settings(**tika(url), EDMS_READINESS_TIMEOUT=1.0):
            started = time.monotonic()
            failed = assert_not_ready("tika")
            elapsed = time.monotonic() - started
    assert elapsed < 2.5
    assert "within 1 s" in failed["error"] or "timed out" in failed["error"]


@pytest.mark.django_db
def test_a_failure_reveals_no_password():
    secret = "s3cret-pass"
    url = f"http://edms:{secret}@127.0.0.1:{closed_port()}"
    with override_settings(EDMS_SEARCH=opensearch(url), **tika(url)):
        results = run_checks()
    errors = " ".join(result.error or "" for result in results)
    assert {result.name for result in results if not result.ok} == {"search", "tika"}
    assert secret not in errors
    assert "Traceback" not in errors


# --- `edms check --deploy` ----------------------------------------------------------------------


def edms(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("edms")), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_the_deploy_check_runs_the_readiness_checks():
    """Against this session's services (the private broker answers): clean; with the search
    cluster at a closed port: the search check's error, and a failing exit."""
    env = dict(os.environ)
    assert edms("check", "--deploy", "--tag", "readiness", env=env).returncode == 0
    env.pop("ELASTICSEARCH_URL", None)
    env["OPENSEARCH_URL"] = f"http://127.0.0.1:{closed_port()}"
    result = edms("check", "--deploy", "--tag", "readiness", env=env)
    assert result.returncode == 1
    assert "edms.E104" in result.stderr and "search does not answer" in result.stderr
    for other in ("E101", "E102", "E103"):
        assert other not in result.stderr
