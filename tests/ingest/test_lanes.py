"""Interactive work first: the lane a change is made in is recorded on its event and on the
version's processing, and decides the queue every pipeline task of the version is sent to.

What is sent is observed where Celery publishes (`before_task_publish`), to the test broker; no
worker runs here (`test_lanes_worker.py` runs one).
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from celery.signals import before_task_publish
from django.conf import settings
from django.utils import timezone

from dossier import actions, lanes
from dossier.audit import Actor
from dossier.lanes import Lane
from dossier.models import Document, Event, EventKind, Version
from dossier.tasks import dispatch_events
from edms.launcher import worker_commands
from ingest import pipeline, queueing
from ingest.models import Processing, Stage, State
from ingest.sweeper import sweep
from tests.conftest import create_dossier, file_document
from tests.lanes_support import PIPELINE_TASKS, deliver, published

pytestmark = pytest.mark.django_db

KEY = "BG/P/2024/000123"


def upload(client, *, content: bytes = b"Claims: a clock escapement.", **headers):
    file = io.BytesIO(content)
    file.name = "claims.txt"
    return client.post(
        f"/api/v1/dossiers/{KEY}/documents",
        {"type": "CLM", "file": file},
        format="multipart",
        **headers,
    )


def registered_event(document_id) -> Event:
    return Event.objects.get(kind=EventKind.DOCUMENT_REGISTERED, document_id=document_id)


def test_an_api_upload_is_interactive(registry, django_capture_on_commit_callbacks):
    create_dossier(KEY)
    response = upload(registry)
    assert response.status_code == 201, response.content
    assert "Edms-Lane" not in response.headers
    event = registered_event(response.json()["id"])
    assert event.lane == Lane.INTERACTIVE

    sent = deliver(event, django_capture_on_commit_callbacks)

    assert sent == [("ingest.tasks.process_version", settings.EDMS_INTERACTIVE_QUEUE)]
    assert Processing.objects.get(version__document_id=event.document_id).lane == Lane.INTERACTIVE


def test_an_upload_marked_bulk_goes_to_the_bulk_queues(
    registry, django_capture_on_commit_callbacks
):
    create_dossier(KEY)
    response = upload(registry, HTTP_EDMS_LANE="Bulk")
    assert response.status_code == 201, response.content
    assert response.headers["Edms-Lane"] == "bulk"
    event = registered_event(response.json()["id"])
    assert event.lane == Lane.BULK

    sent = deliver(event, django_capture_on_commit_callbacks)

    assert sent == [("ingest.tasks.process_version", "extract")]
    assert Processing.objects.get(version__document_id=event.document_id).lane == Lane.BULK


def test_a_new_version_marked_bulk_is_bulk_and_one_unmarked_interactive(
    registry, django_capture_on_commit_callbacks
):
    document = file_document(create_dossier(KEY))
    for header, lane in (({"HTTP_EDMS_LANE": "bulk"}, Lane.BULK), ({}, Lane.INTERACTIVE)):
        file = io.BytesIO(f"version in the {lane} lane".encode())
        file.name = "claims.txt"
        response = registry.post(
            f"/api/v1/documents/{document.id}/versions",
            {"file": file},
            format="multipart",
            **header,
        )
        assert response.status_code == 201, response.content
        event = Event.objects.get(
            kind=EventKind.VERSION_ADDED,
            document_id=document.id,
            version=response.json()["version"],
        )
        assert event.lane == lane


def test_an_unknown_lane_is_refused_and_nothing_is_filed(registry):
    create_dossier(KEY)
    response = upload(registry, HTTP_EDMS_LANE="urgent")
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"].endswith("/validation-error")
    assert problem["field"] == "Edms-Lane"
    assert "urgent" in problem["detail"] and "bulk" in problem["detail"]
    assert not Document.objects.exists()


def test_the_event_feed_does_not_show_the_lane(registry):
    create_dossier(KEY)
    assert upload(registry, HTTP_EDMS_LANE="bulk").status_code == 201
    events = registry.get("/api/v1/events").json()["events"]
    assert events and all("lane" not in event for event in events)


def test_a_qc_approval_is_interactive_though_the_scan_came_in_bulk(
    django_capture_on_commit_callbacks,
):
    dossier = create_dossier(KEY)
    with lanes.bulk():  # as scan batch splitting files its parts
        held = file_document(dossier, held_for_qc=True, channel="scan")
    assert not Event.objects.filter(document_id=held.id).exists()

    actions.approve_scanned_document(held, actor=Actor(label="clerk"))

    event = registered_event(held.id)
    assert event.lane == Lane.INTERACTIVE
    sent = deliver(event, django_capture_on_commit_callbacks)
    assert sent == [("ingest.tasks.process_version", settings.EDMS_INTERACTIVE_QUEUE)]


def test_reprocessing_is_bulk(registry, django_capture_on_commit_callbacks):
    document = file_document(create_dossier(KEY))
    version = Version.objects.get(document=document)
    processing = pipeline.request_processing(version)
    Processing.objects.filter(pk=processing.pk).update(state=State.FAILED)

    with published() as sent, django_capture_on_commit_callbacks(execute=True):
        response = registry.post(f"/api/v1/documents/{document.id}/versions/1/reprocess")

    assert response.status_code == 202, response.content
    assert sent == [("ingest.tasks.process_version", "extract")]
    assert Processing.objects.get(pk=processing.pk).lane == Lane.BULK


@pytest.mark.parametrize(
    ("lane", "stage", "queue"),
    [
        (Lane.INTERACTIVE, Stage.EXTRACT, "interactive"),
        (Lane.INTERACTIVE, Stage.OCR, "interactive"),
        (Lane.INTERACTIVE, Stage.RENDER, "interactive"),
        (Lane.BULK, Stage.EXTRACT, "extract"),
        (Lane.BULK, Stage.OCR, "ocr"),
        (Lane.BULK, Stage.RENDER, "render"),
    ],
)
def test_work_queued_again_by_the_sweeper_stays_in_its_lane(
    lane, stage, queue, django_capture_on_commit_callbacks
):
    """After a restart or a lost task, nothing but the processing row is left to tell the lane:
    the sweeper, in a process of its own (interactive by default), sends it to the right queue."""
    document = file_document(create_dossier(KEY))
    with lanes.using(lane):
        processing = pipeline.request_processing(Version.objects.get(document=document))
    with django_capture_on_commit_callbacks(execute=False):
        dispatch_events()  # the filing's event was handed over long ago; only the task is lost
    long_ago = timezone.now() - dt.timedelta(days=1)
    Processing.objects.filter(pk=processing.pk).update(stage=stage, queued_at=long_ago)

    with published() as sent, django_capture_on_commit_callbacks(execute=True):
        sweep()

    assert sent == [(f"ingest.tasks.{_task_of(stage)}", queue)]


def _task_of(stage: str) -> str:
    return {Stage.EXTRACT: "process_version", Stage.OCR: "ocr_version"}.get(stage, "render_version")


def test_a_version_known_already_keeps_its_lane_when_its_event_comes_again(
    django_capture_on_commit_callbacks,
):
    """An event may reach a subscriber twice; a repeat does not move the version's lane."""
    with lanes.bulk():
        document = file_document(create_dossier(KEY))
    event = registered_event(document.id)
    deliver(event, django_capture_on_commit_callbacks)
    with lanes.using(Lane.INTERACTIVE):
        sent = deliver(event, django_capture_on_commit_callbacks)
    assert sent == [("ingest.tasks.process_version", "extract")]
    assert Processing.objects.get(version__document=document).lane == Lane.BULK


def test_the_lane_is_back_after_the_block_also_on_errors():
    assert lanes.current() == Lane.INTERACTIVE
    with pytest.raises(RuntimeError), lanes.bulk():
        assert lanes.current() == Lane.BULK
        raise RuntimeError
    assert lanes.current() == Lane.INTERACTIVE
    with pytest.raises(ValueError, match="expected one of: interactive, bulk"):
        lanes.parse("fast")


# --- The worker layout ----------------------------------------------------------------------


def _consumed() -> dict[str, list[str]]:
    return {worker["name"]: worker["queues"] for worker in settings.EDMS_LOCAL_WORKERS}


def test_every_queue_has_a_local_consumer_and_the_interactive_one_is_dedicated(tmp_path):
    consumed = _consumed()
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    every = {queue for queues in consumed.values() for queue in queues}
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE, settings.EDMS_INTERACTIVE_QUEUE} <= every
    # The interactive worker takes no bulk work: only interactive work and the index's writes
    # (one pass at most is queued, and interactive documents need it). The main worker takes
    # interactive work too, before anything else, so a burst of it uses every slot.
    assert consumed["interactive"] == ["index", settings.EDMS_INTERACTIVE_QUEUE]
    assert consumed["main"][0] == settings.EDMS_INTERACTIVE_QUEUE
    # The index has a single writer: one worker of one slot consumes `index`.
    [writer] = [name for name, queues in consumed.items() if "index" in queues]
    assert {w["name"]: w["concurrency"] for w in settings.EDMS_LOCAL_WORKERS}[writer] == 1

    commands = {
        command[command.index("--hostname") + 1]: command
        for _, command in worker_commands(tmp_path)
    }
    interactive = commands["interactive@%h"]
    assert interactive[interactive.index("-Q") + 1] == "index,interactive"
    # Two cores on the embedded default: one process for interactive work is enough.
    assert interactive[interactive.index("--concurrency") + 1] == "1"
    assert set(commands) == {f"{name}@%h" for name in consumed}


def test_write_operations_document_the_lane_header(admin_client):
    schema = admin_client.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            assert ("Edms-Lane" in headers) == (method != "get"), (method, path)


def test_renditions_are_sent_with_the_lowest_priority():
    # On Redis a worker takes every queue's higher-priority tasks first: an interactive burst's
    # thumbnails wait until its texts are extracted, on the interactive queue too.
    version = Version.objects.get(document=file_document(create_dossier(KEY)))
    sent: list[tuple[str, int | None]] = []

    def record(sender=None, properties=None, **kwargs):
        if sender in PIPELINE_TASKS:
            sent.append((sender, (properties or {}).get("priority")))

    before_task_publish.connect(record)
    try:
        for stage in (Stage.EXTRACT, Stage.RENDER):
            queueing.queue(version.id, stage, Lane.INTERACTIVE)
    finally:
        before_task_publish.disconnect(record)

    assert sent == [
        ("ingest.tasks.process_version", None),
        ("ingest.tasks.render_version", queueing.RENDER_PRIORITY),
    ]
    assert queueing.RENDER_PRIORITY == 9  # kombu's Redis transport: 0 first, 9 last
