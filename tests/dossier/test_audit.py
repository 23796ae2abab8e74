"""The audit trail: create, update, attach, version, download and cancel each write an
AuditEvent with actor, action, object, time, request id and client address."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dossier.models import AuditEvent, Dossier

DOSSIER_URL = "/api/v1/dossiers/BG/P/2024/000123"
CLIENT = "203.0.113.7"  # a documentation address (RFC 5737)


def traced(request_id: str) -> dict:
    return {"HTTP_X_REQUEST_ID": request_id, "REMOTE_ADDR": CLIENT}


def only_event(action: str) -> AuditEvent:
    [event] = AuditEvent.objects.filter(action=action)
    return event


def assert_audited(event: AuditEvent, *, request_id: str, object_id: str, started) -> None:
    assert event.actor is not None and event.actor.username == "ipas"
    assert event.actor_label == "ipas"
    assert event.object_id == object_id
    assert event.request_id == request_id
    assert event.client_address == CLIENT
    assert started <= event.at <= timezone.now()


@pytest.fixture
def started():
    return timezone.now() - dt.timedelta(seconds=1)


def test_every_action_is_audited(registry, started):
    created = registry.put(
        DOSSIER_URL, {"ip_type": "patent", "title": "Widget"}, format="json", **traced("abc-123")
    )
    assert created["X-Request-ID"] == "abc-123"
    dossier_id = created.json()["id"]
    assert_audited(
        only_event("dossier.create"), request_id="abc-123", object_id=dossier_id, started=started
    )

    updated = registry.put(DOSSIER_URL, {"status": "granted"}, format="json", **traced("req-2"))
    assert updated["X-Request-ID"] == "req-2"
    event = only_event("dossier.update")
    assert_audited(event, request_id="req-2", object_id=dossier_id, started=started)
    assert event.detail == {"fields": ["status"]}

    attached = registry.post(
        f"{DOSSIER_URL}/documents",
        {"file": SimpleUploadedFile("c.txt", b"claims"), "type": "CLM"},
        format="multipart",
        **traced("req-3"),
    )
    document_id = attached.json()["id"]
    event = only_event("document.attach")
    assert_audited(event, request_id="req-3", object_id=document_id, started=started)
    assert event.object_type == "document"
    assert event.dossier_key == "BG/P/2024/123"
    assert event.detail["sha256"] == attached.json()["sha256"]

    registry.post(
        f"/api/v1/documents/{document_id}/versions",
        {"file": SimpleUploadedFile("c.txt", b"claims v2")},
        format="multipart",
        **traced("req-4"),
    )
    event = only_event("document.version")
    assert_audited(event, request_id="req-4", object_id=document_id, started=started)
    assert event.detail["version"] == 2

    registry.patch(
        f"/api/v1/documents/{document_id}",
        {"title": "Amended claims"},
        format="json",
        **traced("req-5"),
    )
    event = only_event("document.update")
    assert_audited(event, request_id="req-5", object_id=document_id, started=started)
    assert event.detail["title"]["to"] == "Amended claims"

    download = registry.get(f"/api/v1/documents/{document_id}/content", **traced("req-6"))
    assert b"".join(download.streaming_content) == b"claims v2"
    assert download["X-Request-ID"] == "req-6"
    event = only_event("document.download")
    assert_audited(event, request_id="req-6", object_id=document_id, started=started)
    assert event.detail["version"] == 2

    registry.patch(
        f"/api/v1/documents/{document_id}",
        {"state": "cancelled", "cancel_reason": "filed twice"},
        format="json",
        **traced("req-7"),
    )
    event = only_event("document.cancel")
    assert_audited(event, request_id="req-7", object_id=document_id, started=started)
    assert event.detail == {"reason": "filed twice"}


def test_a_request_id_is_made_when_none_is_sent(registry):
    response = registry.put(DOSSIER_URL, {"ip_type": "patent"}, format="json")
    generated = response["X-Request-ID"]
    assert len(generated) >= 16
    assert only_event("dossier.create").request_id == generated


@pytest.mark.parametrize("bad", ["has spaces", "x" * 65, "semi;colon", "<script>"])
def test_an_insane_request_id_is_replaced(registry, bad):
    response = registry.put(
        DOSSIER_URL, {"ip_type": "patent"}, format="json", HTTP_X_REQUEST_ID=bad
    )
    assert response["X-Request-ID"] != bad
    assert only_event("dossier.create").request_id == response["X-Request-ID"]


def test_problems_carry_the_request_id(registry):
    response = registry.get("/api/v1/dossiers/BG/P/2024/404", HTTP_X_REQUEST_ID="trace-404")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "trace-404"
    assert response.json()["request_id"] == "trace-404"


def test_failed_requests_leave_no_audit_event(registry):
    registry.put(DOSSIER_URL, {"title": "no ip type"}, format="json")
    registry.put("/api/v1/dossiers/XX/1/2/3", {"ip_type": "patent"}, format="json")
    assert not AuditEvent.objects.exists()
    assert not Dossier.objects.exists()


def test_a_no_op_update_is_not_audited(registry):
    registry.put(DOSSIER_URL, {"ip_type": "patent"}, format="json")
    registry.put(DOSSIER_URL, {"ip_type": "patent"}, format="json")
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["dossier.create"]


def test_human_users_are_the_actor(examiner, dossier):
    examiner.post(
        f"{DOSSIER_URL}/documents",
        {"file": SimpleUploadedFile("n.txt", b"notes"), "type": "SRCH-NOTE"},
        format="multipart",
    )
    event = only_event("document.attach")
    assert event.actor.username == "erika"
    assert event.actor_label == "erika"
    assert event.client_address == "127.0.0.1"  # the test client's REMOTE_ADDR
