"""Events go to their subscribers in batches, from the committing process, with no broker hop.

After an action commits, the process that committed hands every subscriber the list of events
after its cursor (`dossier.events.dispatch_events`) and moves the cursor. What the subscribers
queue is counted with Celery's own publish signal: one upload publishes one extraction task,
and however many events a batch holds, the indexer is woken once.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections import Counter

import pytest
from celery import current_app
from celery.signals import before_task_publish
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connections

from dossier import events
from dossier.models import Event, SubscriberCursor
from dossier.tasks import dispatch_events, handle_event
from search import wakeups
from search.tasks import sync_index
from tests import dispatch_support
from tests.conftest import create_dossier, file_document

pytestmark = pytest.mark.django_db

RECORD = "tests.dispatch_support.record"
FAIL = "tests.dispatch_support.fail"
DOSSIER_KEY = "BG/P/2024/007001"


@pytest.fixture
def published():
    """Names of the tasks published meanwhile, counted (`before_task_publish`)."""
    counts: Counter[str] = Counter()

    def count(sender=None, **kwargs):
        counts[sender] += 1

    before_task_publish.connect(count, weak=False)
    yield counts
    before_task_publish.disconnect(count)


@pytest.fixture
def recorded():
    dispatch_support.calls.clear()
    dispatch_support.failing["on"] = True
    yield dispatch_support.calls
    dispatch_support.calls.clear()


def last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def cursor_of(name: str) -> int:
    cursor = SubscriberCursor.objects.filter(name=name).first()
    return cursor.last_event_id if cursor else 0


def test_one_commit_reaches_each_subscriber_once_with_its_events(
    settings, recorded, django_capture_on_commit_callbacks
):
    settings.EDMS_EVENT_SUBSCRIBERS = [RECORD]
    events.dispatch_events()  # what earlier tests left in the outbox
    recorded.clear()
    before = last_event_id()
    with django_capture_on_commit_callbacks(execute=True):
        dossier = create_dossier(DOSSIER_KEY)
        file_document(dossier)
        file_document(dossier)
    new = list(Event.objects.filter(id__gt=before).order_by("id").values_list("id", flat=True))
    assert len(new) == 3
    assert recorded == [new]  # one call, one list, for the whole transaction
    assert cursor_of(RECORD) == new[-1]


def test_a_failing_subscriber_keeps_its_events_and_holds_back_no_other(
    settings, recorded, caplog, django_capture_on_commit_callbacks
):
    settings.EDMS_EVENT_SUBSCRIBERS = [FAIL, RECORD]
    dispatch_support.failing["on"] = False
    events.dispatch_events()
    recorded.clear()
    dispatch_support.failing["on"] = True
    before = last_event_id()

    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        create_dossier(DOSSIER_KEY)
    new = list(Event.objects.filter(id__gt=before).values_list("id", flat=True))
    assert recorded == [new]  # the other subscriber got them
    assert cursor_of(FAIL) <= before  # not lost: still ahead of the failing one's cursor
    assert f"event subscriber {FAIL} failed" in caplog.text

    # While it fails, the dispatches after commits leave it alone for a while (a poisoned batch
    # must not cost every request another try); the others go on.
    attempts = dispatch_support.failing["attempts"]
    with django_capture_on_commit_callbacks(execute=True):
        create_dossier("BG/P/2024/007002")
    assert dispatch_support.failing["attempts"] == attempts
    assert len(recorded) == 2
    new = list(Event.objects.filter(id__gt=before).values_list("id", flat=True))

    dispatch_support.failing["on"] = False  # it recovers: the catch-up task hands them over
    assert dispatch_events() == len(new)
    assert recorded[-1] == new
    assert cursor_of(FAIL) == cursor_of(RECORD) == new[-1]


def test_an_old_handle_event_message_dispatches_instead_of_failing(settings, recorded):
    settings.EDMS_EVENT_SUBSCRIBERS = [RECORD]
    create_dossier(DOSSIER_KEY)  # committed in the test's transaction: nothing dispatched
    handle_event("dossier.fixity.verify_new_content", last_event_id())
    assert recorded and recorded[-1][-1] == last_event_id()


def test_an_upload_publishes_one_extraction_task_and_no_dispatch_task(
    registry, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        registry.put(f"/api/v1/dossiers/{DOSSIER_KEY}", {"ip_type": "patent"}, format="json")
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = registry.post(
            f"/api/v1/dossiers/{DOSSIER_KEY}/documents",
            {
                "file": SimpleUploadedFile("claims.txt", os.urandom(512)),
                "type": "CLM",
                "official_date": "2024-03-01",
            },
            format="multipart",
        )
    assert response.status_code == 201, response.content
    # Commit → extraction is one broker hop: the committing process queues the extraction.
    assert published["ingest.tasks.process_version"] == 1
    assert published["dossier.tasks.dispatch_events"] == 0
    assert published["dossier.tasks.handle_event"] == 0
    # Besides it: at most one indexer wake-up and one read-back of the new content.
    assert published["search.tasks.sync_index"] <= 1
    assert published["dossier.tasks.verify_new_content"] == 1
    assert sum(published.values()) <= 3


def test_a_batch_of_events_wakes_the_indexer_once(
    dossier, published, django_capture_on_commit_callbacks
):
    events.dispatch_events()
    wakeups.wakeup_started()  # as if the indexer had started on every earlier wake-up
    published.clear()
    for _ in range(5):
        file_document(dossier)  # five commits' events, left in the outbox
    with django_capture_on_commit_callbacks(execute=True):
        events.dispatch_events()
    assert published["search.tasks.sync_index"] == 1
    assert published["ingest.tasks.process_version"] == 5


def test_no_second_wake_up_while_one_waits_in_the_queue(
    dossier, published, django_capture_on_commit_callbacks
):
    events.dispatch_events()
    wakeups.wakeup_started()
    published.clear()
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            file_document(dossier)
    assert published["search.tasks.sync_index"] == 1  # queued, not started: one is enough

    current_app.conf.task_always_eager = True  # the queued sync starts (and runs) here
    try:
        sync_index.delay()
    finally:
        current_app.conf.task_always_eager = False
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        file_document(dossier)
    assert published["search.tasks.sync_index"] == 1  # after it started, a new event wakes it


def test_a_wake_up_that_could_not_be_sent_is_sent_by_the_next_event(
    dossier, published, settings, django_capture_on_commit_callbacks
):
    events.dispatch_events()
    wakeups.wakeup_started()
    stamp = wakeups.claim_wakeup()
    assert stamp is not None and wakeups.claim_wakeup() is None
    wakeups.forget_wakeup(stamp)  # what a failed send does
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        file_document(dossier)
    assert published["search.tasks.sync_index"] == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_committers_hand_every_event_over_exactly_once_in_order(settings, recorded):
    """Each writer thread commits and dispatches on its own connection; the cursor's row lock
    (SQLite: the write lock) makes a dispatcher that waited read after the cursor the other
    left, so no event is skipped or handed over twice."""
    settings.EDMS_EVENT_SUBSCRIBERS = [RECORD]
    events.dispatch_events()
    recorded.clear()
    before = last_event_id()
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            for round_number in range(5):
                create_dossier(f"BG/P/2024/{880000 + index * 10 + round_number}")
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's connections only

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    events.dispatch_events()  # nothing should be left; if something is, it comes last

    handed = [event_id for batch in recorded for event_id in batch]
    expected = list(Event.objects.filter(id__gt=before).order_by("id").values_list("id", flat=True))
    assert len(expected) == 20
    assert handed == expected


def test_edms_dispatch_hands_over_what_the_outbox_still_holds(settings, recorded):
    settings.EDMS_EVENT_SUBSCRIBERS = [RECORD]
    events.dispatch_events()
    create_dossier(DOSSIER_KEY)  # in the test's transaction: its dispatch never runs
    out = io.StringIO()
    call_command("dispatch", stdout=out)
    assert out.getvalue().strip() == "handed 1 event(s) to the subscribers"
    assert recorded[-1] == [last_event_id()]
