"""Follow-up work really runs in a separate Celery worker process.

A document registered through the API commits an event; after commit the web process hands it
to the fixity subscriber, which queues the read-back of the new content, and the worker (a real
`celery worker` subprocess on the same database, broker and blob storage) reads the content
back from storage and stamps `Blob.verified_at`. This process never reads the content back.
"""

from __future__ import annotations

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dossier.events import subscribers
from dossier.models import Blob, Event, EventKind, SubscriberCursor
from tests.services import wait_until

pytestmark = [
    pytest.mark.worker,
    # Committed transactions: the worker cannot see rows inside a test's open transaction.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

VERIFY_TIMEOUT = 60.0
FIXITY_SUBSCRIBER = "dossier.fixity.verify_new_content"
DOSSIER_KEY = "BG/P/2024/004242"


def _upload(content: bytes, filename: str = "claims.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(filename, content, content_type="text/plain")


def _create_dossier(client) -> None:
    response = client.put(
        f"/api/v1/dossiers/{DOSSIER_KEY}",
        {"ip_type": "patent", "title": "Self-verifying widget"},
        format="json",
    )
    assert response.status_code == 201, response.content


def _verified_at(sha256: str):
    return Blob.objects.filter(pk=sha256).values_list("verified_at", flat=True).first()


def _wait_verified(worker, sha256: str):
    def probe():
        worker.assert_alive()
        return _verified_at(sha256)

    return wait_until(
        probe,
        timeout=VERIFY_TIMEOUT,
        what=f"the worker to verify blob {sha256}",
        explain=lambda: f"worker log:\n{worker.log_tail()}",
    )


def test_the_fixity_subscriber_is_configured():
    assert FIXITY_SUBSCRIBER in subscribers()


def test_worker_verifies_a_registered_document(celery_worker, registry):
    _create_dossier(registry)
    content = os.urandom(4096)
    response = registry.post(
        f"/api/v1/dossiers/{DOSSIER_KEY}/documents",
        {"file": _upload(content), "type": "CLM", "official_date": "2024-03-01"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    sha256 = response.json()["sha256"]

    assert _wait_verified(celery_worker, sha256) is not None
    # Registration itself does not verify: the worker did, in the task queued after commit.
    assert "Task dossier.tasks.verify_new_content[" in celery_worker.log_tail(200)
    event = Event.objects.get(kind=EventKind.DOCUMENT_REGISTERED, payload__sha256=sha256)
    cursor = SubscriberCursor.objects.get(name=FIXITY_SUBSCRIBER)
    assert cursor.last_event_id >= event.id


def test_worker_verifies_a_version_added_later(celery_worker, registry):
    _create_dossier(registry)
    first = registry.post(
        f"/api/v1/dossiers/{DOSSIER_KEY}/documents",
        {"file": _upload(os.urandom(2048)), "type": "CLM", "official_date": "2024-03-01"},
        format="multipart",
    )
    assert first.status_code == 201, first.content
    _wait_verified(celery_worker, first.json()["sha256"])

    document_id = first.json()["id"]
    second = registry.post(
        f"/api/v1/documents/{document_id}/versions",
        {"file": _upload(os.urandom(3000), "claims-amended.txt")},
        format="multipart",
    )
    assert second.status_code == 201, second.content
    assert second.json()["version"] == 2
    sha256 = second.json()["sha256"]
    assert sha256 != first.json()["sha256"]

    assert _wait_verified(celery_worker, sha256) is not None
    assert Event.objects.filter(kind=EventKind.VERSION_ADDED, payload__sha256=sha256).exists()
