"""`edms sweep`: work whose task was lost is queued again, and nothing else.

Work is "lost" here as in production: a document registered inside the test's transaction never
has its on-commit hooks run, so its event stays in the outbox and no task is sent; cursors moved
past the events stand for events handed to a task that was lost. Sweeping with Celery eager (and
on-commit hooks firing) then runs the real subscribers, pipeline or split.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from celery import current_app
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from dossier.models import Event, SubscriberCursor, Version
from ingest import pipeline
from ingest.models import Processing, Stage, State
from ingest.sweeper import SweepReport, sweep
from scanning import splitting
from scanning.models import BatchState, ScanBatch
from scanning.requeue import stalled_batches
from tests import scan_support as scan
from tests.conftest import create_dossier, file_document

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - dt.timedelta(days=1)


@pytest.fixture
def eager(django_capture_on_commit_callbacks):
    """`sweep()` with tasks run in this process and on-commit hooks fired as they would be
    outside the test's transaction."""
    current_app.conf.task_always_eager = True

    def run() -> SweepReport:
        with django_capture_on_commit_callbacks(execute=True):
            return sweep()

    yield run
    current_app.conf.task_always_eager = False


def registered(dossier) -> Version:
    """A document registered (in the test's transaction: its event is never dispatched)."""
    document = file_document(dossier, b"Claims: a clock escapement.", filename="claims.txt")
    return Version.objects.get(document=document)


def lost_version(dossier, **processing_fields) -> Processing:
    """A version whose processing was requested but whose task never left (no commit)."""
    version = registered(dossier)
    dispatched()
    processing = pipeline.request_processing(version)
    Processing.objects.filter(pk=processing.pk).update(**processing_fields)
    return processing


def dispatched() -> None:
    """Every subscriber's cursor past every event: handed over (and, here, lost with its task)."""
    last = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for name in settings.EDMS_EVENT_SUBSCRIBERS:
        SubscriberCursor.objects.update_or_create(name=name, defaults={"last_event_id": last})


def test_events_left_in_the_outbox_are_dispatched_and_processed(dossier, eager):
    version = registered(dossier)
    report = eager()
    assert report.events >= 1
    assert version.processing.state == State.DONE


def test_a_version_whose_event_was_lost_gets_processed(dossier, eager):
    version = registered(dossier)
    dispatched()
    Version.objects.filter(pk=version.pk).update(created_at=LONG_AGO)
    report = eager()
    assert (report.events, report.versions) == (0, 1)
    assert Processing.objects.get(version=version).state == State.DONE


def test_a_version_pending_too_long_is_queued_again_and_processed(dossier, eager):
    processing = lost_version(dossier, queued_at=LONG_AGO)
    report = eager()
    assert (report.versions, report.batches) == (1, 0)
    processing.refresh_from_db()
    assert processing.state == State.DONE
    assert processing.text_chars and processing.text_chars > 0


def test_recent_pending_work_is_left_to_its_task(dossier):
    processing = lost_version(dossier)  # queued just now: its task may well be on its way
    assert sweep(dry_run=True).versions == 0
    assert sweep().versions == 0
    processing.refresh_from_db()
    assert processing.state == State.PENDING


def test_a_swept_version_waits_a_full_period_before_being_sent_again(dossier):
    processing = lost_version(dossier, queued_at=LONG_AGO)
    assert sweep().versions == 1  # sent to the broker, where no worker takes it here
    processing.refresh_from_db()
    assert processing.state == State.PENDING
    assert processing.queued_at > timezone.now() - dt.timedelta(minutes=1)
    assert sweep().versions == 0


def test_a_run_whose_worker_died_is_taken_over(dossier, eager):
    silent_since = timezone.now() - dt.timedelta(hours=2)
    processing = lost_version(dossier, state=State.RUNNING, stage=Stage.EXTRACT)
    Processing.objects.filter(pk=processing.pk).update(started_at=silent_since)
    assert eager().versions == 1
    processing.refresh_from_db()
    assert processing.state == State.DONE


def test_a_run_still_within_its_time_limit_is_left_alone(dossier):
    processing = lost_version(dossier, state=State.RUNNING, started_at=timezone.now())
    assert sweep(dry_run=True).versions == 0
    assert Processing.objects.get(pk=processing.pk).state == State.RUNNING


@pytest.fixture
def small_batch() -> bytes:
    return scan.batch_pdf([scan.cover("BG/P/2024/000123", "CLM"), scan.text_page("PAGE A")])


def submitted(content: bytes) -> ScanBatch:
    from dossier import blobstore
    from dossier.audit import Actor

    staged = blobstore.spool([content], filename="s1.pdf")
    return splitting.submit_batch(staged, actor=Actor(label="scanner"))


def test_a_batch_whose_split_task_was_lost_is_split(small_batch, eager):
    create_dossier("BG/P/2024/000123")
    batch = submitted(small_batch)
    ScanBatch.objects.filter(id=batch.id).update(queued_at=LONG_AGO)
    assert eager().batches == 1
    batch.refresh_from_db()
    assert batch.state == BatchState.QC and batch.parts.count() == 1


def test_a_batch_being_split_is_not_split_twice_at_once(small_batch, eager):
    create_dossier("BG/P/2024/000123")
    batch = submitted(small_batch)
    ScanBatch.objects.filter(id=batch.id).update(
        state=BatchState.SPLITTING, started_at=timezone.now()
    )
    assert splitting.split_batch(batch.id) is None  # a duplicate task: nothing done
    assert sweep(dry_run=True).batches == 0
    # Its worker died half an hour ago: the sweep takes it over.
    ScanBatch.objects.filter(id=batch.id).update(
        started_at=timezone.now() - splitting.STALE_SPLIT - dt.timedelta(minutes=1)
    )
    assert eager().batches == 1
    batch.refresh_from_db()
    assert batch.state == BatchState.QC and batch.parts.count() == 1


def test_the_command_reports_what_it_queued(dossier):
    lost_version(dossier, queued_at=LONG_AGO)
    out = io.StringIO()
    call_command("sweep", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "1 versions and 0 scan batches would be queued again"
    call_command("sweep", stdout=out)
    assert (
        "0 events dispatched, 1 versions and 0 scan batches, 0 webhook deliveries, "
        "0 version renditions, 0 search index rebuilds, 0 indexed-event announcements, "
        "0 notification e-mails, 0 documents due for disposition, 0 DAS requests,"
        " 0 embeddings, 0 duplicate checks queued again" in out.getvalue()
    )
    # The periodic hooks last: no signing key here, so no audit checkpoint is due.
    assert out.getvalue().strip().endswith("; 0 audit checkpoints signed")


def test_a_queued_batch_is_sent_again_only_when_its_task_is_gone(small_batch):
    create_dossier("BG/P/2024/000123")
    batch = submitted(small_batch)
    ScanBatch.objects.filter(id=batch.id).update(task_id="split-1", queued_at=LONG_AGO)
    assert not stalled_batches(in_broker=lambda ids: set(ids)).exists()  # waiting in line
    assert list(stalled_batches(in_broker=lambda ids: set())) == [batch]  # lost
    assert list(stalled_batches(in_broker=lambda ids: None)) == [batch]  # the time rule


def test_a_split_queued_under_the_task_name_before_scanning_was_an_app_still_runs(small_batch):
    """A batch queued by the release before (task `ingest.tasks.split_scan_batch`, still in the
    broker at the upgrade) is split by the alias registered under that name."""
    create_dossier("BG/P/2024/000123")
    batch = submitted(small_batch)
    assert current_app.amqp.router.route({}, splitting.SPLIT_TASK)["queue"].name == "scan"
    current_app.tasks["ingest.tasks.split_scan_batch"].apply(args=[str(batch.id)])
    batch.refresh_from_db()
    assert batch.state == BatchState.QC and batch.parts.count() == 1
