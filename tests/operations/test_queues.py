"""The broker's view for the operations page (operations.broker): queue depths, the oldest waiting
task's age, and which workers answer; on the private Redis (leg 1) and on Redis over TCP (leg 2)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.test import Client

from dossier.roles import Role
from edms.celery import app
from operations.broker import PUBLISHED_AT, broker_state, queue_names
from tests.factories import UserFactory
from tests.gunicorn_server import process_env


@pytest.fixture
def idle_queues():
    """Two queues of their own that no worker consumes, emptied afterwards."""
    names = [f"test-{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"]
    yield names
    with app.connection_for_write() as connection:
        for name in names:
            connection.default_channel.queue_purge(name)


def test_depth_and_age_of_the_oldest_waiting_task(idle_queues):
    busy, empty = idle_queues
    ten_minutes_ago = time.time() - 600
    # The oldest at a high priority (its own list under kombu's Redis transport), two newer.
    app.send_task("tests.nothing", queue=busy, priority=9, headers={PUBLISHED_AT: ten_minutes_ago})
    app.send_task("tests.nothing", queue=busy)
    app.send_task("tests.nothing", queue=busy)

    state = broker_state([busy, empty], ping_timeout=0.1)

    assert state.reachable
    waiting = {queue.name: queue for queue in state.queues}
    assert waiting[busy].waiting == 3
    assert 600 <= waiting[busy].oldest_age_s < 3600
    assert waiting[empty].waiting == 0 and waiting[empty].oldest_age_s is None


def test_published_tasks_carry_their_publishing_time(idle_queues):
    busy, _ = idle_queues
    before = time.time()
    app.send_task("tests.nothing", queue=busy)
    [oldest] = [q for q in broker_state([busy], ping_timeout=0.1).queues]
    assert oldest.waiting == 1
    assert 0 <= oldest.oldest_age_s <= time.time() - before


def test_every_routed_and_consumed_queue_is_shown():
    names = queue_names()
    assert {"celery", "extract", "ocr", "index"} <= set(names)
    assert {q for w in settings.EDMS_LOCAL_WORKERS for q in w["queues"]} <= set(names)


@pytest.mark.worker
def test_a_running_worker_answers(celery_worker):
    workers = {w.name: w.answering for w in broker_state([], ping_timeout=2).workers}
    assert any(name.startswith("edms-test-") and answering for name, answering in workers.items())
    if settings.EDMS_LOCAL_BROKER_SOCKET is not None:
        # `edms run`'s workers are expected on the embedded default: silent ones are listed.
        assert workers["main@…"] is False and workers["interactive@…"] is False


def test_an_unreachable_broker_is_said_at_once(tmp_path):
    env = process_env() | {"CELERY_BROKER_URL": f"redis+socket://{tmp_path}/none.sock"}
    script = (
        "import django, json; django.setup(); from operations.broker import broker_state; "
        "s = broker_state(); print(json.dumps([s.reachable, [q.waiting for q in s.queues]]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    reachable, depths = json.loads(result.stdout.splitlines()[-1])
    assert reachable is False and depths and set(depths) == {None}


@pytest.mark.django_db
def test_operations_page_shows_workers_and_broker_queues():
    clerk = Client()
    clerk.force_login(UserFactory(role=Role.RECORDS_CLERK))
    page = clerk.get("/operations").content.decode()
    assert 'id="workers"' in page
    for name in queue_names():
        assert f'<tr data-broker-queue="{name}"><td>{name}</td><td class="num">' in page
    assert 'id="broker-unreachable"' not in page


def test_a_worker_takes_from_its_first_queue_with_work(idle_queues):
    # As the main worker lists `extract` before `render`: the renditions queued first still wait.
    first, later = idle_queues
    for _ in range(2):
        app.send_task("tests.rendition", queue=later)
        app.send_task("tests.extraction", queue=first)

    taken = []
    with app.connection_for_read() as connection:
        queues = [app.amqp.queues[name] for name in idle_queues]

        def take(body, message):
            taken.append(message.headers["task"])
            message.ack()

        with connection.Consumer(queues, callbacks=[take], prefetch_count=1):
            while len(taken) < 4:
                connection.drain_events(timeout=5)

    assert taken == ["tests.extraction"] * 2 + ["tests.rendition"] * 2
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["queue_order_strategy"] == "priority"
