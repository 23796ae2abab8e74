"""Blob storage that cannot be used answers `503 storage-unavailable`, not a bare 500: an upload
stores nothing (no blob, no version) and a download leaves the blob's state alone (not marked
missing or corrupt). The reason is logged once.

Runs without an S3 server: the real S3 backend (django-storages and boto3) pointed at a closed
port on loopback. The refused-credentials case needs a real server: tests/dossier/test_s3_server.py.
"""

from __future__ import annotations

import logging
import os
import socket

import pytest
from botocore.config import Config
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from dossier.models import Blob, Version
from tests.conftest import file_document

DOCUMENTS = "/api/v1/dossiers/BG/P/2024/000123/documents"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once closed: nothing listens there


def use_unreachable_s3(settings) -> None:
    """STORAGES["blobs"] switched to S3 on a port nobody listens on (one attempt, no retries,
    so the test does not wait out boto's back-off)."""
    storages = dict(django_settings.STORAGES)
    storages["blobs"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "edms",
            "endpoint_url": f"http://127.0.0.1:{closed_port()}",
            "region_name": "us-east-1",
            "access_key": "edms",
            "secret_key": "edms-secret",
            "client_config": Config(
                connect_timeout=2, read_timeout=2, retries={"total_max_attempts": 1}
            ),
        },
    }
    settings.STORAGES = storages  # Django drops its cached storages when STORAGES changes


@pytest.fixture
def unreachable_s3(settings):
    use_unreachable_s3(settings)


def storage_errors(caplog) -> list[logging.LogRecord]:
    # Errors only: on S3 the first write also logs (INFO) whether the bucket has Object Lock.
    return [
        r for r in caplog.records if r.name == "dossier.blobs_s3" and r.levelno >= logging.ERROR
    ]


def test_an_upload_to_unreachable_storage_is_a_503_and_stores_nothing(
    registry, dossier, unreachable_s3, caplog
):
    caplog.set_level(logging.ERROR)
    response = registry.post(
        DOCUMENTS,
        {
            "file": SimpleUploadedFile("claims.bin", os.urandom(2000), "application/octet-stream"),
            "type": "CLM",
            "official_date": "2024-03-01",
        },
        format="multipart",
    )
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/api/v1/problems/storage-unavailable"
    assert problem["detail"].startswith("blob storage is unreachable")
    assert Blob.objects.count() == 0 and Version.objects.count() == 0
    [logged] = storage_errors(caplog)
    assert "is unreachable" in logged.getMessage()
    assert "127.0.0.1" in logged.getMessage()  # boto's reason names the endpoint


def test_a_download_from_unreachable_storage_is_a_503_and_the_blob_stays_intact(
    registry, dossier, settings, caplog
):
    document = file_document(dossier, os.urandom(2000), filename="claims.bin")
    use_unreachable_s3(settings)  # after the document was stored on the filesystem
    caplog.set_level(logging.ERROR)
    response = registry.get(f"/api/v1/documents/{document.id}/content")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/api/v1/problems/storage-unavailable"
    assert problem["detail"].startswith("blob storage is unreachable")
    # Unreachable is not missing: the blob is not marked corrupt (that would refuse it later).
    blob = document.versions.get().blob
    blob.refresh_from_db()
    assert not blob.is_corrupt
    assert len(storage_errors(caplog)) == 1
