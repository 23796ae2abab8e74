"""The vector index with real writer processes: one killed (kill -9) between its database commit
and its file save leaves a file readers can use and that does not lie, and the next writer
catches up; two writing at once lose no chunk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from celery import current_app
from django.core.management import call_command

from similarity import embedder, embedding, requeue, vectorindex
from similarity.models import Chunk
from tests.conftest import create_dossier, file_document
from tests.search_support import give_text
from tests.services import _worker_env

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TOPICS = [
    "A gearbox with helical gears and a lubricating oil pump driven by the input shaft.",
    "A heart valve prosthesis with three leaflets of bovine pericardium on a stent.",
    "A wind turbine blade with a serrated trailing edge that lowers its noise.",
    "A bicycle brake lever with an adjustable reach screw and a hydraulic master cylinder.",
    "A coffee machine with a milk frother heated by steam from the boiler.",
    "A solar panel mounting rail clamped to roof tiles without drilling.",
    "A toothbrush whose bristles change colour when they are worn out.",
    "A drone propeller guard folding against the arm for transport.",
    "A dishwasher spray arm driven by a small electric motor instead of water pressure.",
    "A ski binding releasing the boot when a torsion sensor reads a fall.",
    "A garden hose reel winding itself back by a spring in its hub.",
    "A pressure cooker lid locked by a pin while the pot holds pressure.",
]


@pytest.fixture
def folder(settings, tmp_path):
    settings.EDMS_SIMILARITY_DIR = tmp_path / "similarity"
    vectorindex.forget_copy()
    yield settings.EDMS_SIMILARITY_DIR
    vectorindex.forget_copy()


def documents(count: int) -> list[str]:
    dossier = create_dossier()
    ids = []
    for n in range(count):
        document = file_document(dossier)
        give_text(document, (TOPICS[n % len(TOPICS)] + f" Variant {n}. ") * 3)
        ids.append(str(document.id))
    return ids


def writer(folder, ids: list[str], *, then: str, save_interval: float) -> subprocess.Popen:
    env = _worker_env() | {
        "EDMS_SIMILARITY_DIR": str(folder),
        "EDMS_SIMILARITY_SAVE_INTERVAL": str(save_interval),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.similarity.index_writer", "--then", then, *ids],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def file_keys(folder) -> set[int]:
    """The keys of the saved file, as a reader process opens it."""
    vectorindex.forget_copy()
    path = folder / vectorindex.FILE_NAME
    from usearch.index import Index

    index = Index.restore(str(path), view=True)
    return {int(k) for k in index.keys}


def nearest(text: str) -> str | None:
    from similarity import dense

    vectorindex.forget_copy()  # a reader process: the file
    matches = dense.nearest(
        embedder.embed([text]), [text], allowed=lambda ids: ids, exclude=None, limit=1
    )
    return str(matches[0].document_id) if matches else None


def test_a_writer_killed_between_commit_and_save_leaves_a_usable_file_and_loses_nothing(
    folder, capsys
):
    first, second, third = documents(3)
    # The writer's first task saves at once; the second is committed, its save an hour away.
    process = writer(folder, [first, second], then="wait", save_interval=3600)
    try:
        assert process.stdout.readline().strip() == "committed"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    committed = set(Chunk.objects.values_list("id", flat=True))
    assert len(committed) == 2
    # The file is the one saved before: readable, without the second document's chunk, and
    # holding nothing the database does not have.
    saved = file_keys(folder)
    assert saved < committed and len(saved) == 1
    assert nearest(TOPICS[0]) == first
    assert nearest(TOPICS[1]) is None  # not found yet, never wrongly found
    call_command("similarity", "status")
    assert "1 chunks not saved in it yet, 0 removed ones still in it" in capsys.readouterr().out

    # The next writer (another process) catches up from the database: every committed chunk.
    process = writer(folder, [third], then="stop", save_interval=3600)
    assert process.wait(timeout=120) == 0
    assert file_keys(folder) == set(Chunk.objects.values_list("id", flat=True))
    assert len(file_keys(folder)) == 3
    assert nearest(TOPICS[1]) == second
    assert vectorindex.lag() == (0, 0)


def test_the_sweep_catches_up_what_a_killed_writer_committed(folder, settings):
    first, second = documents(2)
    process = writer(folder, [first, second], then="wait", save_interval=3600)
    try:
        assert process.stdout.readline().strip() == "committed"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert vectorindex.lag() == (1, 0)
    # No task comes after it: the sweep sees the file lag (written longer ago than two save
    # intervals) and queues the catch-up (run here).
    settings.EDMS_SIMILARITY_SAVE_INTERVAL = 0
    current_app.conf.task_always_eager = True
    try:
        assert requeue.queue_lost_embeddings() == 0  # no document waits: only the file lagged
    finally:
        current_app.conf.task_always_eager = False
    assert vectorindex.lag() == (0, 0)
    assert nearest(TOPICS[1]) == second


def test_two_writers_at_once_lose_no_chunk(folder):
    ids = documents(12)
    # Re-embedding also removes keys: half of the documents get a new text between runs.
    embedding.embed_documents(ids[:4])
    vectorindex.flush()
    for n, document_id in enumerate(ids[:2]):
        from dossier.models import Document

        give_text(Document.objects.get(id=document_id), TOPICS[(n + 6) % 12] + " Changed. " * 3)
    processes = [
        writer(folder, ids[0::2], then="stop", save_interval=0.2),
        writer(folder, ids[1::2], then="stop", save_interval=0),
    ]
    assert [p.wait(timeout=180) for p in processes] == [0, 0]
    committed = set(Chunk.objects.values_list("id", flat=True))
    assert len(committed) == 12  # one passage each
    assert file_keys(folder) == committed
    assert not embedding.waiting().exists()
    assert os.path.exists(folder / vectorindex.FILE_NAME)
