"""The embedding step and its vector index: chunks follow the document's current text, and the
index file on disk is only a cache of the database (deleted, corrupt or stale, it is rebuilt)."""

from __future__ import annotations

import time

import pytest
from celery import current_app
from django.core.management import call_command

from dossier import actions, blobstore, events
from dossier.audit import Actor
from similarity import dense, embedder, embedding, vectorindex
from similarity.models import Chunk, EmbeddedText
from similarity.tasks import embed_document
from tests.conftest import create_dossier, file_document
from tests.search_support import give_text

pytestmark = pytest.mark.django_db

GEARS = "A gearbox with helical gears and a lubricating oil pump driven by the input shaft. " * 3
VALVE = "A heart valve prosthesis with three leaflets of bovine pericardium on a stent. " * 3


@pytest.fixture(autouse=True)
def similarity_dir(settings, tmp_path):
    settings.EDMS_SIMILARITY_DIR = tmp_path / "similarity"
    return settings.EDMS_SIMILARITY_DIR


def nearest_document(text: str):
    matches = dense.nearest(
        embedder.embed([text]), [text], allowed=lambda ids: ids, exclude=None, limit=1
    )
    return str(matches[0].document_id) if matches else None


def test_a_long_document_is_embedded_passage_by_passage(settings):
    settings.EDMS_SIMILARITY_MAX_CHUNKS = 5
    document = file_document(create_dossier())
    words = [f"word{i}" for i in range(2000)]
    give_text(document, " ".join(words))
    outcome = embed_document.apply(args=[str(document.id)]).get()
    assert outcome == 5
    chunks = list(Chunk.objects.filter(document=document).order_by("ordinal"))
    assert [c.ordinal for c in chunks] == [0, 1, 2, 3, 4]
    # Taken evenly over the text: the last passage comes from its last part.
    assert chunks[0].passage.startswith("word0 ")
    assert int(chunks[-1].passage.split()[0][4:]) > 1500
    assert all(len(c.passage.split()) == embedding.PASSAGE_WORDS for c in chunks)


def test_chunks_follow_a_new_version_and_an_expunge(admin_user):
    dossier = create_dossier()
    document = file_document(dossier)
    give_text(document, GEARS)
    call_command("similarity", "backfill")
    assert nearest_document(GEARS) == str(document.id)
    first = set(Chunk.objects.filter(document=document).values_list("id", flat=True))

    staged = blobstore.spool([b"v2"], filename="v2.txt")
    actions.add_version(document, staged, actor=Actor(label="tests"))
    document.refresh_from_db()
    give_text(document, VALVE)
    assert list(embedding.documents_to_embed()) == [document.id]
    embedding.embed_document(str(document.id))
    now = set(Chunk.objects.filter(document=document).values_list("id", flat=True))
    assert now and not now & first
    assert "heart valve" in Chunk.objects.get(id=min(now)).passage
    assert nearest_document(VALVE) == str(document.id)
    assert nearest_document(GEARS) is None  # nothing near enough any more

    actions.expunge_document(
        document, reason="court order", reference="1/2026", actor=Actor(user=admin_user)
    )
    assert embedding.embed_document(str(document.id)).chunks == 0
    assert not Chunk.objects.filter(document=document).exists()
    assert not EmbeddedText.objects.filter(document=document).exists()
    assert nearest_document(VALVE) is None


def test_the_backfill_embeds_only_what_is_missing(capsys):
    dossier = create_dossier()
    documents = [file_document(dossier) for _ in range(3)]
    for document, text in zip(documents, (GEARS, VALVE, ""), strict=True):
        give_text(document, text)
    call_command("similarity", "backfill")
    assert "embedded 3 documents (2 chunks)" in capsys.readouterr().out
    call_command("similarity", "backfill")
    assert "embedded 0 documents" in capsys.readouterr().out


def test_the_index_file_is_rebuilt_from_the_database(similarity_dir):
    dossier = create_dossier()
    gears, valve = file_document(dossier), file_document(dossier)
    give_text(gears, GEARS)
    embedding.embed_document(str(gears.id))
    path = similarity_dir / vectorindex.FILE_NAME
    old_copy = path.read_bytes()
    give_text(valve, VALVE)
    embedding.embed_document(str(valve.id))

    # Lost: readers rebuild it (a reader process: this one's writer copy forgotten).
    vectorindex.forget_copy()
    path.unlink()
    assert nearest_document(VALVE) == str(valve.id)
    assert path.exists()

    # Stale, as after a crash between a writer's commit and its save: the next writer (a new
    # process) loads it and catches up with the database before adding.
    vectorindex.forget_copy()
    path.write_bytes(old_copy)
    third = file_document(dossier)
    give_text(third, "A wind turbine blade with a serrated trailing edge against noise. " * 3)
    embedding.embed_document(str(third.id))
    vectorindex.forget_copy()  # what a reader process sees: the file
    assert len(vectorindex.reader()) == Chunk.objects.count() == 3
    assert nearest_document(VALVE) == str(valve.id)

    # Corrupt: rebuilt too.
    vectorindex.forget_copy()
    path.write_bytes(b"not an index")
    assert call_command("similarity", "rebuild") is None
    assert len(vectorindex.reader()) == 3


def test_a_processed_version_queues_its_embedding_on_the_similarity_queue(
    django_capture_on_commit_callbacks,
):
    def queued() -> int:
        with current_app.connection_for_write() as connection:
            client = connection.default_channel.client
            return sum(client.llen(key) for key in client.keys("similarity*"))

    before = queued()
    document = file_document(create_dossier())
    with django_capture_on_commit_callbacks(execute=True):
        give_text(document, GEARS)
    # The subscriber runs as the outbox is dispatched, and sends once that commits.
    with django_capture_on_commit_callbacks(execute=True):
        events.dispatch_events()
    assert queued() == before + 1
    assert not Chunk.objects.filter(document=document).exists()  # not done in the request
    with current_app.connection_for_write() as connection:
        connection.default_channel.queue_purge("similarity")  # no worker here takes it


def test_the_file_is_written_at_most_every_save_interval_and_when_idle(settings, similarity_dir):
    settings.EDMS_SIMILARITY_SAVE_INTERVAL = 1
    vectorindex.forget_copy()
    dossier = create_dossier()
    gears, valve = file_document(dossier), file_document(dossier)
    give_text(gears, GEARS)
    give_text(valve, VALVE)
    path = similarity_dir / vectorindex.FILE_NAME

    def saved_keys() -> set[int]:
        from usearch.index import Index

        return {int(k) for k in Index.restore(str(path), view=True).keys}

    embedding.embed_document(str(gears.id))  # a new copy's first task writes the file
    assert saved_keys() == set(Chunk.objects.values_list("id", flat=True))
    embedding.embed_document(str(valve.id))  # within the interval: held in memory
    assert len(saved_keys()) == 1
    assert vectorindex.lag() == (1, 0)
    # The worker stays idle: its timer writes the file once the interval is over.
    deadline = time.monotonic() + 10
    while vectorindex.lag() != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert saved_keys() == set(Chunk.objects.values_list("id", flat=True))
    assert len(saved_keys()) == 2
    vectorindex.forget_copy()
