"""`POST /api/v1/documents/{id}/versions/{n}/restore`: an older version's content as the next
version, with a reason."""

from __future__ import annotations

import pytest

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import AuditEvent, Version
from ingest.models import Processing
from tests.conftest import file_document

FIRST = b"the claims as first filed"


@pytest.fixture
def document(dossier):
    document = file_document(dossier, FIRST, filename="claims.txt")
    actions.add_version(
        document, blobstore.spool([b"a mistaken page"], filename="x.txt"), actor=Actor(label="t")
    )
    return document


def restore_url(document, number: int) -> str:
    return f"/api/v1/documents/{document.id}/versions/{number}/restore"


def test_restore_answers_the_new_version_and_serves_the_old_content(registry, document):
    response = registry.post(
        restore_url(document, 1), {"reason": "page 2 was wrong"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert body["version"] == 3
    assert body["sha256"] == Version.objects.get(document=document, number=1).blob_id
    content = registry.get(f"/api/v1/documents/{document.id}/content")
    assert b"".join(content.streaming_content) == FIRST
    audit = AuditEvent.objects.get(action="document.restore")
    assert audit.actor_label == "ipas"
    assert audit.detail["reason"] == "page 2 was wrong"


def test_restore_without_a_reason_is_a_validation_problem(registry, document):
    response = registry.post(restore_url(document, 1), {}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["field"] == "reason"
    blank = registry.post(restore_url(document, 1), {"reason": "   "}, format="json")
    assert blank.status_code == 400
    assert Version.objects.filter(document=document).count() == 2


def test_restore_of_an_unknown_version_is_a_404(registry, document):
    response = registry.post(restore_url(document, 9), {"reason": "x"}, format="json")
    assert response.status_code == 404
    assert response.json()["type"] == "/api/v1/problems/unknown-version"


def test_a_cancelled_document_refuses_with_409(registry, document):
    actions.cancel_document(document, reason="duplicate", actor=Actor(label="t"))
    response = registry.post(restore_url(document, 1), {"reason": "back"}, format="json")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/v1/problems/document-cancelled"
    assert Version.objects.filter(document=document).count() == 2


def test_the_public_may_not_restore(public, document):
    response = public.post(restore_url(document, 1), {"reason": "x"}, format="json")
    assert response.status_code in (401, 403)
    assert Version.objects.filter(document=document).count() == 2


def test_the_restored_version_is_processed_like_any_new_one(
    registry, document, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = registry.post(restore_url(document, 1), {"reason": "back"}, format="json")
    restored = Version.objects.get(document=document, number=response.json()["version"])
    assert Processing.objects.filter(version=restored).exists()


RESTORE = "/api/v1/documents/{document_id}/versions/{number}/restore"


def test_answers_and_problems_conform_to_the_openapi_schema(registry, document, conforms):
    restored = registry.post(restore_url(document, 1), {"reason": "back"}, format="json")
    assert restored.status_code == 201
    assert conforms(restored, RESTORE)["version"] == 3
    for response, slug in [
        (registry.post(restore_url(document, 1), {}, format="json"), "validation-error"),
        (
            registry.post(restore_url(document, 9), {"reason": "x"}, format="json"),
            "unknown-version",
        ),
    ]:
        assert conforms(response, RESTORE)["type"] == f"/api/v1/problems/{slug}"
    actions.cancel_document(document, reason="duplicate", actor=Actor(label="t"))
    cancelled = registry.post(restore_url(document, 1), {"reason": "back"}, format="json")
    assert conforms(cancelled, RESTORE)["status"] == 409
