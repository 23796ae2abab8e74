"""The sweep's "embeddings" hook: a document whose embedding task was lost is embedded after a
sweep; one whose task was just sent (and may still wait in the queue) is not sent twice."""

from __future__ import annotations

import datetime as dt

import pytest
from celery import current_app
from django.utils import timezone

from dossier import events
from ingest.sweeper import sweep
from similarity import embedding, requeue
from similarity.models import Chunk, EmbeddedText, EmbeddingQueued
from tests.conftest import create_dossier, file_document
from tests.search_support import give_text

pytestmark = pytest.mark.django_db

GEARS = "A gearbox with helical gears and a lubricating oil pump driven by the input shaft. " * 3
LONG_AGO = timezone.now() - dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def similarity_dir(settings, tmp_path):
    settings.EDMS_SIMILARITY_DIR = tmp_path / "similarity"


def similarity_queue_length() -> int:
    with current_app.connection_for_write() as connection:
        client = connection.default_channel.client
        return sum(client.llen(key) for key in client.keys("similarity*"))


def lose_queued_tasks() -> None:
    """What a broker restarted without its messages does to the `similarity` queue."""
    with current_app.connection_for_write() as connection:
        connection.default_channel.queue_purge("similarity")


@pytest.fixture
def eager_sweep(django_capture_on_commit_callbacks):
    """`sweep()` with the tasks it sends run in this process."""

    def run():
        current_app.conf.task_always_eager = True
        try:
            with django_capture_on_commit_callbacks(execute=True):
                return sweep()
        finally:
            current_app.conf.task_always_eager = False

    return run


def test_a_lost_embedding_task_is_sent_again_by_the_sweep(
    django_capture_on_commit_callbacks, eager_sweep
):
    lose_queued_tasks()
    document = file_document(create_dossier())
    with django_capture_on_commit_callbacks(execute=True):
        give_text(document, GEARS)
    with django_capture_on_commit_callbacks(execute=True):
        events.dispatch_events()  # the subscriber stamps and sends the task
    assert similarity_queue_length() == 1
    assert EmbeddingQueued.objects.get(document_id=document.id).queued_at > LONG_AGO
    lose_queued_tasks()

    # Just sent: the task may still wait behind others, so the sweep leaves it alone.
    assert list(embedding.waiting().values_list("document_id", flat=True)) == [document.id]
    assert eager_sweep().others["embeddings"] == 0
    assert not Chunk.objects.filter(document=document).exists()

    # EDMS_REQUEUE_AFTER later it is still not embedded: its task was lost, the sweep sends it.
    EmbeddingQueued.objects.update(queued_at=LONG_AGO)
    assert eager_sweep().others["embeddings"] == 1
    assert EmbeddedText.objects.get(document=document).chunk_count == 1
    assert Chunk.objects.filter(document=document).count() == 1
    assert not embedding.waiting().exists()
    assert eager_sweep().others["embeddings"] == 0  # done: nothing more to send


def test_the_sweep_sends_oldest_first_and_a_bounded_number(monkeypatch):
    dossier = create_dossier()
    documents = [file_document(dossier) for _ in range(3)]
    for document in documents:
        give_text(document, GEARS)
    monkeypatch.setattr(requeue, "SWEEP_BATCH", 2)
    assert requeue.lost() == [str(d.id) for d in documents[:2]]
    requeue.stamp([str(d.id) for d in documents[:2]])
    # The two just sent wait a full period; the third is next.
    assert requeue.lost() == [str(documents[2].id)]


def test_an_expunged_document_whose_task_was_lost_loses_its_chunks(admin_user):
    from dossier import actions
    from dossier.audit import Actor

    document = file_document(create_dossier())
    give_text(document, GEARS)
    embedding.embed_document(str(document.id))
    actions.expunge_document(
        document, reason="court order", reference="1/2026", actor=Actor(user=admin_user)
    )
    assert requeue.lost() == [str(document.id)]
    embedding.embed_document(str(document.id))
    assert not Chunk.objects.filter(document=document).exists()
    assert requeue.lost() == []
