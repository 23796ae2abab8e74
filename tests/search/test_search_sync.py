"""The index follows the database: through the outbox, after a crash, by reindex and reconcile.

Every change goes through the real actions (which append outbox events in their transaction);
the indexer (`search.indexer.sync`, what the `index` queue's worker runs) applies them. No test
writes to the index behind the indexer's back except to corrupt it on purpose.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from io import StringIO

import pytest
import tantivy
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.utils import timezone

from dossier import actions
from dossier.audit import Actor
from dossier.models import DocumentType, Version
from dossier.roles import Role
from ingest import pipeline
from search import find, indexer, querylang
from search.backends import IndexOutdated, SearchRequest, get_backend
from search.models import IndexedDocument, ReindexRun
from search.tasks import queue_rebuild_of_outdated_index, sync_index
from tests import dispatch_support
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.search_support import give_text, index_doc
from tests.services import _worker_env, wait_until

ACTOR = Actor(label="tests")


def hits(user, q: str = "", **criteria) -> dict:
    return find.find_documents(user, find.Criteria(q=q, **criteria))


def hit_ids(user, q: str = "", **criteria) -> set[str]:
    return {r["document"] for r in hits(user, q, **criteria)["results"]}


@pytest.fixture
def examiner_user(db):
    return UserFactory(role=Role.EXAMINER)


@pytest.mark.django_db
def test_text_becomes_searchable_once_processed(search_backend, examiner_user):
    dossier = create_dossier()
    document = file_document(dossier, b"raw bytes")
    indexer.sync()
    assert hit_ids(examiner_user, "type:CLM") == {str(document.id)}  # metadata first
    assert hit_ids(examiner_user, "sprocket") == set()
    give_text(document, "A sprocket engages the chain.", languages=["en"])
    assert indexer.lag()["events_behind"] == 1
    indexer.sync()
    assert hit_ids(examiner_user, "sprockets") == {str(document.id)}
    assert indexer.lag()["events_behind"] == 0


@pytest.mark.django_db
def test_real_ingestion_announces_the_text(search_backend, examiner_user):
    dossier = create_dossier()
    text = "Le brevet décrit une poulie montée sur un arbre, avec une courroie crantée."
    document = file_document(dossier, text.encode(), filename="description.txt")
    version = Version.objects.get(document=document)
    pipeline.request_processing(version)
    processing = pipeline.process_version(version.pk)
    assert processing.state == "done" and processing.languages == ["fr"]
    indexer.sync()
    found = hits(examiner_user, "poulies")
    assert [r["document"] for r in found["results"]] == [str(document.id)]
    assert "<mark>poulie</mark>" in found["results"][0]["snippets"][0]


@pytest.mark.django_db
def test_metadata_changes_show_up(search_backend, examiner_user):
    public = AnonymousUser()
    dossier = create_dossier("BG/P/2024/11")
    other = create_dossier("BG/P/2024/12")
    document = file_document(dossier)
    give_text(document, "gearbox housing")
    indexer.sync()
    assert hit_ids(public, "gearbox") == set()  # not published yet

    actions.upsert_dossier(dossier.key, {"published_at": timezone.localdate()}, actor=ACTOR)
    indexer.sync()
    assert hit_ids(public, "gearbox") == {str(document.id)}

    oa = DocumentType.objects.get(code="OA")
    actions.update_document(document, {"doc_type": oa}, actor=ACTOR)
    indexer.sync()
    assert hit_ids(examiner_user, "gearbox type:OA") == {str(document.id)}

    actions.update_document(document, {"visibility": "confidential"}, actor=ACTOR)
    indexer.sync()
    assert hit_ids(public, "gearbox") == set()
    assert hit_ids(examiner_user, "gearbox") == {str(document.id)}

    actions.update_document(document, {"dossier": other}, actor=ACTOR)
    indexer.sync()
    assert hit_ids(examiner_user, "gearbox", dossier="BG/P/2024/12") == {str(document.id)}
    assert hit_ids(examiner_user, "gearbox", dossier="BG/P/2024/11") == set()

    actions.cancel_document(document, reason="filed twice", actor=ACTOR)
    indexer.sync()
    (result,) = hits(examiner_user, "gearbox")["results"]
    assert result["state"] == "cancelled"


@pytest.mark.django_db
def test_an_older_revision_never_overwrites_a_newer_one(search_backend):
    document = file_document(create_dossier())
    indexer.sync()
    recorded = IndexedDocument.objects.get(document_id=document.id)
    # As if another indexer had already written the document at a later revision.
    IndexedDocument.objects.filter(pk=recorded.pk).update(revision=99, stamp="99.newer")
    actions.update_document(document, {"title": "Renamed"}, actor=ACTOR)
    assert indexer.index_documents([str(document.id)]) == 0
    assert IndexedDocument.objects.get(pk=recorded.pk).stamp == "99.newer"


@pytest.mark.django_db
def test_reconcile_repairs_a_corrupted_index(search_backend, examiner_user):
    dossier = create_dossier()
    a, b, c = (file_document(dossier) for _ in range(3))
    for document, word in ((a, "alpha"), (b, "bravo"), (c, "charlie")):
        give_text(document, f"{word} text")
    indexer.sync()
    backend = get_backend()
    # Corrupt: lose a, keep a stale b, add a document the database never had.
    backend.delete([str(a.id)])
    backend.upsert([index_doc(id=str(b.id), stamp="0.old", text="obsolete")])
    ghost = index_doc(principals=["role:examiner"], text="phantom")
    backend.upsert([ghost])
    assert hit_ids(examiner_user, "alpha") == set()
    assert _engine_ids("phantom") == {ghost.id}
    # Search checks each page against the database: the phantom is in the index, never shown.
    assert hit_ids(examiner_user, "phantom") == set()

    out = StringIO()
    call_command("search", "reconcile", stdout=out)
    report = out.getvalue()
    assert f"missing: {a.id}" in report
    assert f"stale: {b.id}" in report
    assert f"extra: {ghost.id}" in report
    assert "repaired: 1 missing, 1 stale, 1 extra" in report
    assert indexer.reconcile(repair=False).clean
    assert hit_ids(examiner_user, "alpha") == {str(a.id)}
    assert hit_ids(examiner_user, "bravo") == {str(b.id)}
    assert _engine_ids("phantom") == set()


def _engine_ids(text: str) -> set[str]:
    request = SearchRequest(
        query=querylang.parse(text), principals=frozenset({"role:examiner"}), today=find.today()
    )
    return {hit.id for hit in get_backend().search(request).hits}


class Interrupted(Exception):
    pass


@pytest.mark.django_db
def test_reindex_resumes_and_swaps_with_changes_made_meanwhile(search_backend, examiner_user):
    dossier = create_dossier()
    documents = [file_document(dossier) for _ in range(5)]
    give_text(documents[0], "original wording")
    indexer.sync()
    before = get_backend().active_generation()

    def stop_after_first_chunk(done, total):
        raise Interrupted

    with pytest.raises(Interrupted):
        indexer.reindex(chunk=2, progress=stop_after_first_chunk)
    run = ReindexRun.objects.get()
    assert run.finished_at is None and run.indexed == 2
    assert get_backend().active_generation() == before  # searches still use the old index

    # A change while the rebuild is paused: it must survive the switch.
    actions.update_document(documents[0], {"title": "Amended claims"}, actor=ACTOR)
    indexer.sync()

    out = StringIO()
    call_command("search", "reindex", stdout=out, stderr=StringIO())
    run.refresh_from_db()
    assert run.finished_at is not None and run.indexed == 5
    assert get_backend().active_generation() == run.generation != before
    assert "reindexed 5 documents" in out.getvalue()
    indexer.sync()  # replays the events since the rebuild started
    assert get_backend().count() == 5
    assert hit_ids(examiner_user, "title:amended") == {str(documents[0].id)}
    assert hit_ids(examiner_user, "wording") == {str(documents[0].id)}
    assert indexer.reconcile(repair=False).clean


@pytest.mark.django_db
def test_an_index_an_upgrade_left_outdated_is_rebuilt_by_the_index_writer(
    search_backend, examiner_user
):
    """After an upgrade that changed the index's fields, the embedded index cannot be opened
    (search answers 503): `edms sweep` asks the index writer once, which rebuilds it."""
    document = file_document(create_dossier())
    give_text(document, "sprocket wording")
    indexer.sync()
    assert queue_rebuild_of_outdated_index() == 0  # nothing to rebuild
    # What an earlier edms left: an index of other fields as the active generation.
    earlier = tantivy.SchemaBuilder()
    earlier.add_text_field("id", stored=True, tokenizer_name="raw")
    old = search_backend.root / "gen-20240101000000-earlier"
    old.mkdir()
    tantivy.Index(earlier.build(), path=str(old), reuse=True)
    search_backend.activate(old.name)
    with pytest.raises(IndexOutdated):
        _engine_ids("sprocket")

    assert queue_rebuild_of_outdated_index() == 1
    assert queue_rebuild_of_outdated_index() == 0  # one request queued is enough
    sync_index()  # what the index queue's consumer runs

    assert not get_backend().outdated()
    assert get_backend().active_generation() != old.name
    assert hit_ids(examiner_user, "sprocket") == {str(document.id)}
    assert ReindexRun.objects.get().finished_at is not None
    assert queue_rebuild_of_outdated_index() == 0


# --- A real indexer process, killed while it works through a backlog --------------------------


def _start_sync(env: dict, log_path) -> subprocess.Popen:
    edms = os.path.join(os.path.dirname(sys.executable), "edms")
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [edms, "search", "sync", "--batch-size", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=django_settings.BASE_DIR,
            start_new_session=True,
        )


def _cursor() -> int:
    return indexer.lag()["cursor"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_killed_indexer_converges_after_restart(settings, tmp_path):
    index_path = tmp_path / "index"
    settings.EDMS_SEARCH = {
        "BACKEND": "search.backends.embedded.Backend",
        "OPTIONS": {"path": str(index_path)},
    }
    get_backend().reset()
    dossier = create_dossier()
    documents = [file_document(dossier) for _ in range(40)]
    for number, document in enumerate(documents):
        give_text(document, f"widget part number{number}")
    last_event = indexer.lag()["last_event"]
    env = _worker_env() | {"EDMS_SEARCH_PATH": str(index_path)}

    process = _start_sync(env, tmp_path / "sync1.log")
    try:
        wait_until(lambda: _cursor() > 0, timeout=60, what="the indexer to commit a batch")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    killed_at = _cursor()
    assert 0 < killed_at < last_event, "the indexer finished before it could be killed"
    # Killed mid-way: part of the backlog is indexed, possibly with a batch written but never
    # acknowledged, which the restart simply writes again.
    assert get_backend().count() < len(documents)

    restarted = _start_sync(env, tmp_path / "sync2.log")
    assert restarted.wait(timeout=120) == 0, (tmp_path / "sync2.log").read_text()
    assert _cursor() == last_event
    assert get_backend().count() == len(documents)
    assert indexer.reconcile(repair=False).clean
    examiner = UserFactory(role=Role.EXAMINER)
    assert hit_ids(examiner, "number39") == {str(documents[39].id)}


@pytest.mark.django_db
def test_status_shows_the_lag(search_backend, examiner, public):
    file_document(create_dossier())
    response = examiner.get("/api/v1/search/status")
    assert response.status_code == 200
    lag = response.json()["lag"]
    assert lag["events_behind"] >= 2  # dossier created + document registered
    assert lag["oldest_unindexed_age_seconds"] >= 0
    indexer.sync()
    body = examiner.get("/api/v1/search/status").json()
    assert body["lag"]["events_behind"] == 0
    assert body["engine"]["documents"] == 1
    assert body["engine"]["backend"] == "embedded"
    assert public.get("/api/v1/search/status").status_code == 401


@pytest.mark.django_db
def test_date_based_publication_needs_no_reindex(search_backend, monkeypatch):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    dossier = create_dossier(published_at=tomorrow)
    document = file_document(dossier)
    give_text(document, "flywheel")
    indexer.sync()
    public = AnonymousUser()
    assert hit_ids(public, "flywheel") == set()
    # The day comes for the index's date filter and for the database's check alike.
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)
    assert hit_ids(public, "flywheel") == {str(document.id)}


@pytest.mark.django_db
def test_what_indexed_a_batch_is_announced_and_a_failing_subscriber_holds_nothing_back(
    search_backend, settings
):
    settings.EDMS_INDEXED_SUBSCRIBERS = [
        "tests.dispatch_support.fail",
        "tests.dispatch_support.record",
    ]
    dispatch_support.calls.clear()
    dispatch_support.failing["on"] = True
    document = file_document(create_dossier())
    indexer.sync()
    # The failing subscriber is logged and skipped; the next one and the cursor move on.
    assert indexer.lag()["events_behind"] == 0
    assert IndexedDocument.objects.filter(document_id=document.id).exists()
    [batch] = dispatch_support.calls
    assert batch and dispatch_support.failing["attempts"] >= 1
    # It keeps its own cursor: once it works, the next pass hands it the same batch, and
    # the other subscriber is not handed it twice.
    assert indexer.announcements_behind() == ["tests.dispatch_support.fail"]
    dispatch_support.failing["on"] = False
    try:
        indexer.sync()
    finally:
        dispatch_support.failing["on"] = True
    assert dispatch_support.calls == [batch, batch]
    assert indexer.announcements_behind() == []
