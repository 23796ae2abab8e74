"""The lease of a processing stage: work waiting in line is left alone, work whose task or runner
is gone is taken over.

A claimed stage records its runner (worker hostname, pid) and a heartbeat that a thread beside
the stage refreshes; a queued stage records its task's id. The sweeper sends a task again only
for a running stage whose heartbeat stopped, or a pending one whose task the broker no longer
holds (Redis) — not for one that merely waited longer than EDMS_REQUEUE_AFTER in a long line.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from celery import current_app
from django.utils import timezone

from dossier.models import Version
from ingest import lease, pipeline
from ingest.broker_tasks import task_ids_in_broker
from ingest.models import Processing, Stage, State
from ingest.sweeper import resume_interrupted, stalled_versions, sweep
from tests.conftest import file_document
from tests.services import wait_until

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - dt.timedelta(days=1)


def version_of(dossier) -> Version:
    return Version.objects.get(document=file_document(dossier, b"Claims: a hinge."))


def running(dossier, *, heartbeat_age: dt.timedelta, started_age: dt.timedelta, **fields):
    now = timezone.now()
    processing, _ = Processing.objects.update_or_create(
        version=version_of(dossier),
        defaults={
            "state": State.RUNNING,
            "stage": Stage.EXTRACT,
            "started_at": now - started_age,
            "heartbeat_at": now - heartbeat_age,
            **fields,
        },
    )
    return processing


def a_dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --- Claiming -------------------------------------------------------------------------------


def test_a_claim_records_its_runner_and_a_first_heartbeat(dossier):
    version = version_of(dossier)
    Processing.objects.create(version=version)
    claimed = pipeline.claim(version.pk, Stage.EXTRACT, lease.Runner("worker-a@host", 4242))
    assert claimed is not None
    assert (claimed.runner_host, claimed.runner_pid) == ("worker-a@host", 4242)
    assert claimed.heartbeat_at == claimed.started_at


def test_a_long_run_that_still_beats_is_not_taken_over(dossier):
    # Started two hours ago (a long OCR), heartbeat a few seconds old: alive.
    processing = running(
        dossier, heartbeat_age=dt.timedelta(seconds=5), started_age=dt.timedelta(hours=2)
    )
    assert pipeline.process_version(processing.version_id) is None
    assert sweep(dry_run=True).versions == 0
    assert Processing.objects.get(pk=processing.pk).state == State.RUNNING


def test_a_run_whose_heartbeat_stopped_is_taken_over_within_minutes(dossier):
    # Started two minutes ago, silent for longer than the lease: its runner is gone, although
    # the stage's time limit (many minutes) is far from over.
    silent = lease.LEASE + dt.timedelta(seconds=5)
    processing = running(dossier, heartbeat_age=silent, started_age=dt.timedelta(minutes=2))
    assert sweep(dry_run=True).versions == 1
    assert pipeline.process_version(processing.version_id) is not None
    assert Processing.objects.get(pk=processing.pk).state == State.DONE


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_heartbeat_is_refreshed_while_the_stage_runs(dossier, monkeypatch):
    monkeypatch.setattr(lease, "HEARTBEAT_EVERY", 0.05)
    runner = lease.this_runner("worker-b@host")
    processing = running(
        dossier,
        heartbeat_age=dt.timedelta(minutes=1),
        started_age=dt.timedelta(minutes=1),
        runner_host=runner.host,
        runner_pid=runner.pid,
    )
    first = processing.heartbeat_at
    with lease.heartbeat(processing, runner):
        wait_until(
            lambda: Processing.objects.get(pk=processing.pk).heartbeat_at > first,
            timeout=10,
            what="a heartbeat",
        )


# --- Pending work and the broker --------------------------------------------------------------


def test_pending_work_whose_task_the_broker_holds_is_left_waiting(dossier):
    version = version_of(dossier)
    Processing.objects.create(version=version, task_id="t-1")
    Processing.objects.filter(version=version).update(queued_at=LONG_AGO)
    assert not stalled_versions(in_broker=lambda ids: set(ids)).exists()
    assert stalled_versions(in_broker=lambda ids: set()).count() == 1
    # A broker that cannot tell: the time rule.
    assert stalled_versions(in_broker=lambda ids: None).count() == 1


def test_pending_work_whose_task_is_gone_is_sent_again_before_the_time_rule(dossier):
    version = version_of(dossier)
    Processing.objects.create(version=version, task_id="t-2")
    recently = timezone.now() - lease.LEASE - dt.timedelta(seconds=5)  # << EDMS_REQUEUE_AFTER
    Processing.objects.filter(version=version).update(queued_at=recently)
    assert stalled_versions(in_broker=lambda ids: set()).count() == 1
    assert not stalled_versions(in_broker=lambda ids: None).exists()


def test_pending_work_that_never_got_a_task_is_sent_after_the_lease(dossier):
    """The process that committed it died before sending its task (queue() records the id
    first): nothing waits in line for it, whatever the broker."""
    version = version_of(dossier)
    Processing.objects.create(version=version)
    recently = timezone.now() - lease.LEASE - dt.timedelta(seconds=5)  # << EDMS_REQUEUE_AFTER
    Processing.objects.filter(version=version).update(queued_at=recently)
    assert stalled_versions(in_broker=lambda ids: set()).count() == 1
    assert stalled_versions(in_broker=lambda ids: None).count() == 1
    Processing.objects.filter(version=version).update(queued_at=timezone.now())
    assert not stalled_versions(in_broker=lambda ids: set()).exists()


@pytest.fixture
def redis_broker():
    if not current_app.conf.broker_url.startswith(("redis://", "rediss://", "redis+socket://")):
        pytest.skip("the broker is not Redis")
    current_app.control.purge()
    yield current_app
    current_app.control.purge()


def test_the_redis_broker_is_asked_which_tasks_it_holds(dossier, redis_broker):
    version = version_of(dossier)
    Processing.objects.create(version=version)
    pipeline.queue(version.pk)  # a real task in a real queue; no worker takes it here
    processing = Processing.objects.get(version=version)
    assert processing.task_id
    assert task_ids_in_broker([processing.task_id, "not-there"]) == {processing.task_id}

    Processing.objects.filter(pk=processing.pk).update(queued_at=LONG_AGO)
    assert sweep(dry_run=True).versions == 0  # waiting in line, however long
    queue = pipeline.queue_of(processing.lane) or "extract"  # the lane's queue
    with redis_broker.connection_for_write() as connection:
        connection.default_channel.queue_purge(queue)  # the broker lost it
    assert sweep(dry_run=True).versions == 1


# A worker that takes one message from `queue` (as a Celery worker prefetches it, not
# acknowledged) and is killed before it runs it: the message stays in the broker's `unacked` hash.
TAKE_AND_DIE = """
import os, signal, sys
from kombu import Connection
url, queue = sys.argv[1:]
with Connection(url) as connection:
    message = connection.default_channel.basic_get(queue, no_ack=False)
    print(message.delivery_tag, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def taken_by_a_killed_worker(redis_broker) -> Iterator[Callable[[str], None]]:
    """Takes a message as a worker killed at once would; the broker forgets it afterwards (it
    would come back, for a worker of a later test, only after the visibility timeout)."""
    tags = []
    url = redis_broker.conf.broker_url
    yield lambda queue: tags.append(_take_and_die(url, queue))
    with redis_broker.connection_for_write() as connection:
        channel = connection.default_channel
        for tag in tags:
            channel.client.hdel(channel.unacked_key, tag)
            channel.client.zrem(channel.unacked_index_key, tag)


def _take_and_die(url: str, queue: str) -> str:
    taker = subprocess.run(
        [sys.executable, "-c", TAKE_AND_DIE, url, queue],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert taker.returncode == -9, taker.stderr
    return taker.stdout.strip()


def test_a_task_taken_by_a_killed_worker_is_held_only_a_lease_long(
    dossier, taken_by_a_killed_worker
):
    """Redis gives the message back only after its visibility timeout (hours); meanwhile the
    version would stay pending, so the sweeper must see the message as lost."""
    version = version_of(dossier)
    Processing.objects.create(version=version)
    pipeline.queue(version.pk)
    processing = Processing.objects.get(version=version)
    taken_by_a_killed_worker(pipeline.queue_of(processing.lane) or "extract")

    # Just taken, it may be starting in a live worker; a lease later, that worker is gone.
    assert task_ids_in_broker([processing.task_id]) == {processing.task_id}
    assert task_ids_in_broker([processing.task_id], taken_within=0) == set()


def test_a_retry_taken_for_its_countdown_is_held_until_it_is_due(dossier, taken_by_a_killed_worker):
    version = version_of(dossier)
    queue = pipeline.queue_of(Processing(version=version).lane) or "extract"
    retry = current_app.tasks["ingest.tasks.process_version"].apply_async(
        (version.pk,), queue=queue, countdown=600
    )
    taken_by_a_killed_worker(queue)

    assert task_ids_in_broker([retry.id], taken_within=0) == {retry.id}


# --- A worker's return ------------------------------------------------------------------------


def test_a_returning_worker_queues_again_what_its_earlier_incarnation_ran(dossier):
    now = timezone.now()
    mine_dead = running(
        dossier,
        heartbeat_age=dt.timedelta(seconds=3),
        started_age=dt.timedelta(seconds=30),
        runner_host="worker-c@host",
        runner_pid=a_dead_pid(),
    )
    mine_alive = running(
        dossier,
        heartbeat_age=dt.timedelta(seconds=3),
        started_age=dt.timedelta(seconds=30),
        runner_host="worker-c@host",
        runner_pid=os.getpid(),  # this incarnation's own run
    )
    another_worker = running(
        dossier,
        heartbeat_age=dt.timedelta(seconds=3),
        started_age=dt.timedelta(seconds=30),
        runner_host="worker-d@host",
        runner_pid=a_dead_pid(),
    )
    assert resume_interrupted("worker-c@host") == 1
    resumed = Processing.objects.get(pk=mine_dead.pk)
    assert resumed.state == State.PENDING and resumed.task_id and resumed.queued_at >= now
    assert Processing.objects.get(pk=mine_alive.pk).state == State.RUNNING
    assert Processing.objects.get(pk=another_worker.pk).state == State.RUNNING
