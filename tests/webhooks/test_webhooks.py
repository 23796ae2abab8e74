"""Webhooks: the registry is told of events by signed POSTs, retried until they get through.

The receiving end is a real HTTP server in a thread. Celery runs eagerly and on-commit callbacks
are executed, so handing events to the webhook subscriber sends them at once; later attempts are
driven one by one through `attempts.attempt(..., now=<when it is due>)`: no real waiting.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery import current_app
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from api.models import ApiKey
from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.events import append_event, dispatch_to
from dossier.models import AuditEvent, DocumentType, Event, EventKind
from dossier.roles import Role
from ingest.sweeper import sweep
from tests.conftest import client_for_key, create_dossier, make_user
from tests.services import running_worker, wait_until
from webhooks import actions as webhook_actions
from webhooks import attempts
from webhooks import deliveries as webhook_deliveries
from webhooks.models import DeliveryState, Webhook, WebhookDelivery

# Tests that get their personas dynamically must be seen as database tests too, so that they
# run before the transactional one (which leaves an emptied database behind).
pytestmark = pytest.mark.django_db

KEY = "BG/P/2024/000123"
DOSSIER_URL = f"/api/v1/dossiers/{KEY}"
# The receiver runs on this machine: its network is allowed, as an office allows its own.
LOOPBACK = "127.0.0.0/8"


@pytest.fixture(autouse=True)
def loopback_receivers(settings):
    settings.EDMS_WEBHOOK_ALLOWED_NETWORKS = [LOOPBACK]


# --- The receiving end ---------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; answers with the queued (status, headers), then 200."""

    url: str
    requests: list[Received] = field(default_factory=list)
    answers: deque = field(default_factory=deque)

    def answer(self, *statuses: int, headers: dict | None = None) -> None:
        self.answers.extend((status, headers or {}) for status in statuses)

    @property
    def kinds(self) -> list[str]:
        return [request.headers["X-Edms-Event"] for request in self.requests]


@pytest.fixture
def receiver():
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            status, headers = state.answers.popleft() if state.answers else (200, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            answer = b"thanks" if status < 300 else b"not today"
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = Receiver(url=f"http://127.0.0.1:{server.server_port}/hooks/edms")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def signature_is_valid(request: Received, secret: str) -> bool:
    """What a receiver does (README): HMAC-SHA256 of `<timestamp>.<body>`, compared safely."""
    signed = request.headers["X-Edms-Timestamp"].encode() + b"." + request.body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.headers["X-Edms-Signature"])


# --- Driving the work ------------------------------------------------------------------------


@pytest.fixture
def eager():
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = False


@pytest.fixture
def hand_over(eager, django_capture_on_commit_callbacks):
    """Hand every new event to the webhook subscriber, as the dispatcher does, and run the
    deliveries it queues (the other subscribers are not under test here)."""

    def run() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            dispatch_to(webhook_deliveries.SUBSCRIBER)

    return run


@pytest.fixture
def run_on_commit(eager, django_capture_on_commit_callbacks):
    """Run `call()` and then the deliveries it queued."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def add_webhook(client, **body) -> dict:
    response = client.post("/api/v1/webhooks", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def register_document(client, content: bytes = b"1. A widget.") -> str:
    client.put(DOSSIER_URL, {"ip_type": "patent", "title": "Widget"}, format="json")
    response = client.post(
        f"{DOSSIER_URL}/documents",
        {"file": SimpleUploadedFile("claims.txt", content), "type": "CLM"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def deliveries(client, hook: dict, **params) -> list[dict]:
    response = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", params)
    assert response.status_code == 200, response.content
    return response.json()


def the_delivery() -> WebhookDelivery:
    return WebhookDelivery.objects.get()


def when_due(delivery: WebhookDelivery) -> dt.datetime:
    delivery.refresh_from_db()
    return delivery.next_attempt_at


# --- What is sent ----------------------------------------------------------------------------


def test_a_registered_document_is_posted_signed_as_the_feed_shows_it(registry, receiver, hand_over):
    hook = add_webhook(registry, url=receiver.url)
    document_id = register_document(registry)
    hand_over()

    assert receiver.kinds == ["dossier.created", "document.registered"]
    request = receiver.requests[-1]
    assert request.path == "/hooks/edms"
    assert request.headers["Content-Type"] == "application/json"
    assert signature_is_valid(request, hook["secret"])
    assert abs(int(request.headers["X-Edms-Timestamp"]) - timezone.now().timestamp()) < 60
    feed = registry.get("/api/v1/events").json()["events"]
    assert request.json == feed[1]  # a delivery is a feed item: one parser for both
    assert request.json["document"] == document_id
    assert request.json["payload"]["documentId"] == document_id

    listed = deliveries(registry, hook)
    assert [d["kind"] for d in listed] == ["document.registered", "dossier.created"]
    assert listed[0]["id"] == request.headers["X-Edms-Delivery"]
    assert listed[0]["event"] == feed[1]["cursor"]
    assert listed[0]["state"] == "delivered"
    assert listed[0]["attempts"] == 1
    assert listed[0]["last_status_code"] == 200
    assert listed[0]["delivered_at"]


def test_a_signature_made_with_another_secret_does_not_verify(registry, receiver, hand_over):
    add_webhook(registry, url=receiver.url)
    register_document(registry)
    hand_over()
    assert not signature_is_valid(receiver.requests[0], "whsec_someone-else")


def test_only_the_kinds_and_dossiers_asked_for_are_sent(registry, receiver, hand_over):
    add_webhook(registry, url=receiver.url, kinds=["document.registered", "document.cancelled"])
    add_webhook(registry, url=receiver.url + "/trademarks", dossier_prefix="bg / t/")
    document_id = register_document(registry)
    registry.patch(f"/api/v1/documents/{document_id}", {"title": "Claims"}, format="json")
    registry.patch(
        f"/api/v1/documents/{document_id}",
        {"state": "cancelled", "cancel_reason": "twice"},
        format="json",
    )
    registry.put("/api/v1/dossiers/BG/T/2024/9", {"ip_type": "trademark"}, format="json")
    hand_over()
    by_path = [(r.path, r.headers["X-Edms-Event"]) for r in receiver.requests]
    assert by_path == [
        ("/hooks/edms", "document.registered"),
        ("/hooks/edms", "document.cancelled"),
        ("/hooks/edms/trademarks", "dossier.created"),
    ]


def test_a_case_event_is_posted_to_a_webhook_that_asks_for_it(registry, receiver, hand_over):
    add_webhook(registry, url=receiver.url, kinds=["dossier.case_event"])
    registry.put(DOSSIER_URL, {"ip_type": "patent"}, format="json")
    body = {"kind": "publication", "date": "2025-06-04", "wipo_code": "B10"}
    assert registry.post(f"{DOSSIER_URL}/case-events", body, format="json").status_code == 201
    hand_over()
    assert receiver.kinds == ["dossier.case_event"]
    payload = receiver.requests[0].json["payload"]
    assert (payload["kind"], payload["date"], payload["wipoCode"]) == (
        "publication",
        "2025-06-04",
        "B10",
    )
    assert payload["publishedAt"] == "2025-06-04"


def test_an_event_handed_over_twice_is_delivered_once(registry, receiver, hand_over):
    add_webhook(registry, url=receiver.url, kinds=["dossier.created"])
    registry.put(DOSSIER_URL, {"ip_type": "patent"}, format="json")
    hand_over()
    event = Event.objects.get(kind="dossier.created")
    webhook_deliveries.queue_deliveries([event])  # at-least-once: the dispatcher may repeat
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.count() == 1


def test_a_new_webhook_hears_nothing_of_the_past(registry, receiver, hand_over):
    register_document(registry)
    add_webhook(registry, url=receiver.url)
    hand_over()
    assert receiver.requests == []


# --- Retries -------------------------------------------------------------------------------


def test_a_receiver_failing_twice_gets_it_on_the_third_attempt(registry, receiver, hand_over):
    hook = add_webhook(registry, url=receiver.url, kinds=["document.registered"])
    receiver.answer(500, 503)
    register_document(registry)
    hand_over()
    delivery = the_delivery()
    first_due = when_due(delivery)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.last_error == "HTTP 500"  # the status, never what the receiver answered
    # The first retry comes 30 s (±20 %) after the first attempt, the next twice as late.
    first_wait = (first_due - delivery.last_attempt_at).total_seconds()
    assert 24 <= first_wait <= 36

    assert attempts.attempt(delivery.pk, now=first_due).state == "pending"
    second_due = when_due(delivery)
    assert 48 <= (second_due - first_due).total_seconds() <= 72
    assert attempts.attempt(delivery.pk, now=second_due).state == "delivered"

    [shown] = deliveries(registry, hook)
    assert (shown["state"], shown["attempts"], shown["last_status_code"]) == ("delivered", 3, 200)
    assert shown["last_error"] == ""
    assert [r.headers["X-Edms-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    assert len({r.headers["X-Edms-Delivery"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1


def test_an_attempt_before_it_is_due_sends_nothing(registry, receiver, hand_over):
    add_webhook(registry, url=receiver.url, kinds=["document.registered"])
    receiver.answer(500)
    register_document(registry)
    hand_over()
    delivery = the_delivery()
    early = when_due(delivery) - dt.timedelta(seconds=1)
    assert attempts.attempt(delivery.pk, now=early) == attempts.NOTHING
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [404, 410, 400, 302])
def test_a_refusal_fails_the_delivery_without_retrying(registry, receiver, hand_over, status):
    hook = add_webhook(registry, url=receiver.url, kinds=["document.registered"])
    receiver.answer(status, headers={"Location": "https://elsewhere.example/"})
    register_document(registry)
    hand_over()
    [shown] = deliveries(registry, hook)
    assert (shown["state"], shown["attempts"], shown["last_status_code"]) == ("failed", 1, status)
    assert shown["next_attempt_at"] is None
    if status == 302:
        assert "redirects are not followed" in shown["last_error"]
    later = timezone.now() + dt.timedelta(days=2)
    assert attempts.attempt(shown["id"], now=later) == attempts.NOTHING
    assert len(receiver.requests) == 1  # and the redirect was not followed


@pytest.mark.parametrize("status", [408, 429])
def test_timeouts_and_throttling_of_the_receiver_are_retried(registry, receiver, hand_over, status):
    add_webhook(registry, url=receiver.url, kinds=["document.registered"])
    receiver.answer(status, headers={"Retry-After": "600"})
    register_document(registry)
    hand_over()
    delivery = the_delivery()
    assert (delivery.state, delivery.last_status_code) == ("pending", status)
    wait = (when_due(delivery) - delivery.last_attempt_at).total_seconds()
    # Retry-After is honoured when a throttling receiver asks for longer than the backoff.
    assert wait >= 600 if status == 429 else wait <= 36


def test_an_unreachable_receiver_is_retried_then_given_up(registry, hand_over, settings):
    settings.EDMS_WEBHOOK_MAX_ATTEMPTS = 4
    hook = add_webhook(
        registry, url=f"http://127.0.0.1:{unused_port()}/hook", kinds=["document.registered"]
    )
    register_document(registry)
    hand_over()
    delivery = the_delivery()
    states = [delivery.state]
    for _ in range(3):
        states.append(attempts.attempt(delivery.pk, now=when_due(delivery)).state)
    assert states == ["pending", "pending", "pending", "gave_up"]
    [shown] = deliveries(registry, hook)
    assert (shown["state"], shown["attempts"]) == ("gave_up", 4)
    assert shown["last_status_code"] is None
    assert shown["last_error"].startswith("cannot connect")
    assert shown["next_attempt_at"] is None


def test_first_attempts_go_out_in_event_order(registry, receiver, eager):
    """The second event's delivery waits while the first's has not been tried yet."""
    add_webhook(registry, url=receiver.url)
    registry.put(DOSSIER_URL, {"ip_type": "patent"}, format="json")
    registry.put(DOSSIER_URL, {"title": "Widget"}, format="json")
    dispatch_to(webhook_deliveries.SUBSCRIBER)  # their tasks are not run (not committed)
    first, second = WebhookDelivery.objects.order_by("event_id")

    waited = attempts.attempt(second.pk)
    assert waited.state is None and waited.retry_in == attempts.ORDER_RETRY
    assert attempts.attempt(first.pk).state == "delivered"
    assert attempts.attempt(second.pk, now=when_due(second)).state == "delivered"
    assert receiver.kinds == ["dossier.created", "dossier.updated"]


# --- Who hears of what ---------------------------------------------------------------------


def test_a_webhook_hears_what_its_owner_may_read_from_the_feed(registry, receiver, hand_over):
    """The registry reads secret dossiers in the feed, so it hears of them; a webhook whose
    owner may not read the feed (an examiner, whom an admin gave one) hears of nothing."""
    add_webhook(registry, url=receiver.url + "/registry")
    examiner = make_user("erika", Role.EXAMINER)
    webhook_actions.create_webhook(owner=examiner, url=receiver.url + "/examiner", actor=Actor())
    create_dossier("BG/P/2024/777", secret=True)
    create_dossier("BG/P/2024/778")
    hand_over()
    assert [(r.path, r.json["dossier"]) for r in receiver.requests] == [
        ("/hooks/edms/registry", "BG/P/2024/777"),
        ("/hooks/edms/registry", "BG/P/2024/778"),
    ]


def test_a_scan_held_for_qc_is_announced_only_once_approved(registry, receiver, hand_over):
    add_webhook(registry, url=receiver.url)
    dossier = create_dossier(KEY)
    held = actions.attach_document(
        dossier,
        blobstore.spool([b"scanned page"], filename="scan.pdf"),
        doc_type=DocumentType.objects.get(code="CLM"),
        actor=Actor(label="scan"),
        held_for_qc=True,
    ).document
    with transaction.atomic():  # as a reprocessing of the held scan would announce it
        append_event(
            EventKind.DOCUMENT_PROCESSED,
            dossier_key=dossier.key,
            document_id=held.id,
            version=1,
            payload={"documentId": str(held.id)},
        )
    hand_over()
    assert receiver.kinds == ["dossier.created"]

    actions.approve_scanned_document(held, actor=Actor(label="qc"))
    hand_over()
    assert receiver.kinds == ["dossier.created", "document.registered"]


def test_revoking_the_key_a_webhook_was_made_with_stops_it(registry, receiver, hand_over):
    hook = add_webhook(registry, url=receiver.url, kinds=["document.registered"])
    receiver.answer(500)
    register_document(registry)
    hand_over()
    ApiKey.objects.get(name="ipas").revoke()
    delivery = the_delivery()
    assert attempts.attempt(delivery.pk, now=when_due(delivery)).state == "failed"
    delivery.refresh_from_db()
    assert "revoked" in delivery.last_error
    registry_again = client_for_key(ApiKey.create("ipas-2", Role.REGISTRY_SYSTEM)[1])
    registry_again.put("/api/v1/dossiers/BG/P/2024/9", {"ip_type": "patent"}, format="json")
    hand_over()
    assert len(receiver.requests) == 1
    assert Webhook.objects.get(pk=hook["id"]).deliveries.count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_consuming_the_webhook_queue_delivers(tmp_path, registry, receiver):
    """No eager mode: the committed change is dispatched by a worker process, whose webhook
    subscriber queues the delivery on the `webhook` queue, which that worker consumes."""
    env = {"EDMS_WEBHOOK_ALLOWED_NETWORKS": LOOPBACK}
    with running_worker(tmp_path / "worker.log", queues=["celery", "webhook"], env=env) as worker:
        hook = add_webhook(registry, url=receiver.url, kinds=["dossier.created"])
        registry.put(DOSSIER_URL, {"ip_type": "patent"}, format="json")
        wait_until(
            lambda: receiver.requests,
            timeout=60,
            what="the worker to deliver dossier.created",
            explain=worker.log_tail,
        )
    [request] = receiver.requests
    assert request.json["kind"] == "dossier.created"
    assert signature_is_valid(request, hook["secret"])
    assert the_delivery().state == "delivered"


# --- Lost tasks ----------------------------------------------------------------------------


def test_a_delivery_whose_task_was_lost_is_queued_again(
    registry, receiver, eager, run_on_commit, settings
):
    add_webhook(registry, url=receiver.url, kinds=["dossier.created"])
    registry.put(DOSSIER_URL, {"ip_type": "patent"}, format="json")
    dispatch_to(webhook_deliveries.SUBSCRIBER)  # its task is lost: never run
    assert run_on_commit(webhook_deliveries.requeue_due_deliveries) == 0  # not overdue yet

    overdue = timezone.now() - dt.timedelta(seconds=settings.EDMS_REQUEUE_AFTER + 1)
    WebhookDelivery.objects.update(next_attempt_at=overdue)
    # `edms sweep` runs it (a requeue hook), with the rest of the lost work.
    report = run_on_commit(sweep)
    assert report.others == {
        "webhook deliveries": 1,
        "version renditions": 0,
        "search index rebuilds": 0,
        "indexed-event announcements": 0,
        "notification e-mails": 0,
        "documents due for disposition": 0,
        "DAS requests": 0,
        "embeddings": 0,
        "duplicate checks": 0,
    }
    assert report.done == {"audit checkpoints signed": 0}  # no signing key configured
    assert receiver.kinds == ["dossier.created"]
    assert the_delivery().state == "delivered"
    assert run_on_commit(webhook_deliveries.requeue_due_deliveries) == 0


def test_a_delivery_left_sending_by_a_dead_worker_is_sent_again(
    registry, receiver, eager, run_on_commit, settings
):
    add_webhook(registry, url=receiver.url, kinds=["dossier.created"])
    registry.put(DOSSIER_URL, {"ip_type": "patent"}, format="json")
    dispatch_to(webhook_deliveries.SUBSCRIBER)
    # A worker claimed it and died before it could record anything.
    lease_end = timezone.now() + attempts.LEASE
    WebhookDelivery.objects.update(state="sending", attempts=1, next_attempt_at=lease_end)
    out = io.StringIO()
    run_on_commit(lambda: call_command("requeue_webhooks", stdout=out))
    assert out.getvalue().startswith("0 webhook deliveries")  # its lease has not ended yet
    assert receiver.requests == []

    long_ago = timezone.now() - dt.timedelta(seconds=settings.EDMS_REQUEUE_AFTER + 1)
    WebhookDelivery.objects.update(next_attempt_at=long_ago)
    run_on_commit(lambda: call_command("requeue_webhooks", stdout=out))
    assert "1 webhook deliveries queued again" in out.getvalue()
    delivery = the_delivery()
    assert (delivery.state, delivery.attempts) == ("delivered", 2)


# --- The API ---------------------------------------------------------------------------------


def test_create_list_change_and_delete_a_webhook(registry):
    created = add_webhook(
        registry,
        url="https://ipas.example.org/edms-events",
        kinds=["document.registered"],
        description="IPAS production",
    )
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created["active"] is True and created["dossier_prefix"] == ""
    url = f"/api/v1/webhooks/{created['id']}"

    shown = registry.get(url).json()
    assert "secret" not in shown  # shown once, at creation
    assert registry.get("/api/v1/webhooks").json() == [shown]

    changed = registry.patch(url, {"active": False, "kinds": []}, format="json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["active"], changed.json()["kinds"]) == (False, [])
    assert changed.json()["url"] == "https://ipas.example.org/edms-events"

    assert registry.delete(url).status_code == 204
    assert registry.get(url).status_code == 404
    actions_audited = AuditEvent.objects.filter(object_type="webhook").values_list(
        "action", flat=True
    )
    assert sorted(actions_audited) == ["webhook.create", "webhook.delete", "webhook.update"]


def test_a_webhook_is_its_owners_alone(registry, admin_client):
    hook = add_webhook(registry, url="https://ipas.example.org/hook")
    other = client_for_key(ApiKey.create("madrid-gateway", Role.REGISTRY_SYSTEM)[1])
    assert other.get("/api/v1/webhooks").json() == []
    for client in (other, admin_client):
        response = client.get(f"/api/v1/webhooks/{hook['id']}")
        assert response.status_code == 404
        assert response.json()["type"] == "/api/v1/problems/not-found"
    assert other.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    assert add_webhook(admin_client, url="https://ops.example.org/hook")["id"] != hook["id"]


@pytest.mark.parametrize("persona", ["examiner", "records_clerk"])
def test_staff_may_not_have_webhooks(request, persona):
    client = request.getfixturevalue(persona)
    for response in (
        client.get("/api/v1/webhooks"),
        client.post("/api/v1/webhooks", {"url": "https://x.example/"}, format="json"),
    ):
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["type"] == "/api/v1/problems/forbidden"


def test_the_public_may_not_have_webhooks(public):
    response = public.post("/api/v1/webhooks", {"url": "https://x.example/"}, format="json")
    assert response.status_code == 401
    assert public.get("/api/v1/webhooks").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://ipas.example.org/drop"}, "url"),
        ({"url": "https://ipas:hunter2@ipas.example.org/hook"}, "url"),
        ({"url": "https:///no-host"}, "url"),
        ({"url": "https://ipas.example.org:99999/"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({}, "url"),
        ({"url": "https://ipas.example.org/", "kinds": ["document.eaten"]}, "kinds"),
    ],
)
def test_a_bad_webhook_is_a_problem(registry, body, field):
    response = registry.post("/api/v1/webhooks", body, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/api/v1/problems/validation-error"
    assert problem["field"].startswith(field)
    assert not Webhook.objects.exists()


def test_a_bad_url_is_refused_on_change_too(registry):
    hook = add_webhook(registry, url="https://ipas.example.org/hook")
    response = registry.patch(
        f"/api/v1/webhooks/{hook['id']}", {"url": "file:///etc/passwd"}, format="json"
    )
    assert response.status_code == 400
    assert Webhook.objects.get().url == "https://ipas.example.org/hook"


def test_ping_is_signed_and_listed(registry, receiver, run_on_commit):
    hook = add_webhook(registry, url=receiver.url)
    response = run_on_commit(lambda: registry.post(f"/api/v1/webhooks/{hook['id']}/ping"))
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "ping" and response.json()["event"] is None
    [request] = receiver.requests
    assert request.headers["X-Edms-Event"] == "ping"
    assert request.json["kind"] == "ping" and request.json["webhook"] == hook["id"]
    assert signature_is_valid(request, hook["secret"])
    [shown] = deliveries(registry, hook)
    assert (shown["kind"], shown["state"]) == ("ping", "delivered")


def test_a_new_secret_signs_from_now_on(registry, receiver, run_on_commit):
    hook = add_webhook(registry, url=receiver.url)
    rotated = registry.post(f"/api/v1/webhooks/{hook['id']}/secret")
    assert rotated.status_code == 200
    secret = rotated.json()["secret"]
    assert secret != hook["secret"]
    run_on_commit(lambda: registry.post(f"/api/v1/webhooks/{hook['id']}/ping"))
    assert signature_is_valid(receiver.requests[0], secret)
    assert not signature_is_valid(receiver.requests[0], hook["secret"])


def test_a_failed_delivery_is_redelivered_on_request(registry, receiver, hand_over, run_on_commit):
    hook = add_webhook(registry, url=receiver.url, kinds=["document.registered"])
    receiver.answer(410)
    register_document(registry)
    hand_over()
    [failed] = deliveries(registry, hook, state="failed")
    assert deliveries(registry, hook, state="delivered") == []

    url = f"/api/v1/webhooks/{hook['id']}/deliveries/{failed['id']}/redeliver"
    response = run_on_commit(lambda: registry.post(url))
    assert response.status_code == 202, response.content
    [shown] = deliveries(registry, hook)
    assert (shown["id"], shown["state"], shown["attempts"]) == (failed["id"], "delivered", 1)
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body


def test_a_delivery_being_sent_is_not_redelivered(registry, receiver, hand_over):
    hook = add_webhook(registry, url=receiver.url, kinds=["document.registered"])
    register_document(registry)
    hand_over()
    WebhookDelivery.objects.update(state=DeliveryState.SENDING)  # an attempt under way
    delivery_id = the_delivery().pk
    response = registry.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery_id}/redeliver")
    assert response.status_code == 409
    assert response.json()["type"] == "/api/v1/problems/delivery-in-progress"


def test_unknown_deliveries_and_states_are_problems(registry):
    hook = add_webhook(registry, url="https://ipas.example.org/hook")
    missing = registry.post(
        f"/api/v1/webhooks/{hook['id']}/deliveries/{'0' * 8}-0000-0000-0000-{'0' * 12}/redeliver"
    )
    assert missing.status_code == 404
    bad_state = registry.get(f"/api/v1/webhooks/{hook['id']}/deliveries", {"state": "lost"})
    assert bad_state.status_code == 400 and bad_state.json()["field"] == "state"


def test_listing_deliveries_takes_the_same_queries_however_many(
    registry, receiver, hand_over, django_assert_num_queries
):
    hook = add_webhook(registry, url=receiver.url)
    register_document(registry)
    hand_over()
    url = f"/api/v1/webhooks/{hook['id']}/deliveries"
    with django_assert_num_queries(3):  # the key, the webhook, its deliveries
        assert len(registry.get(url).json()) == 2
    registry.put("/api/v1/dossiers/BG/P/2024/9", {"ip_type": "patent"}, format="json")
    registry.put("/api/v1/dossiers/BG/P/2024/10", {"ip_type": "patent"}, format="json")
    hand_over()
    with django_assert_num_queries(3):
        assert len(registry.get(url).json()) == 4
