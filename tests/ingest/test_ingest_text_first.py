"""Text first: a version is done and searchable (its text stored, `document.processed`
announced) before its renditions are made; the thumbnail and an office document's PDF follow on
the render queue, and the API and the viewer say they are still being made."""

from __future__ import annotations

import datetime as dt

import pytest
from celery import current_app
from django.utils import timezone

from dossier.models import Event, EventKind, Rendition
from dossier.roles import Role
from ingest import pipeline
from ingest.models import Processing, Stage, State
from ingest.sweeper import sweep
from tests.frontend.test_ui_views import client_as
from tests.ingest_support import corpus_file, file_version

PDF = corpus_file("0418910f_testPDF_twoAuthors.pdf")
LONG_AGO = timezone.now() - dt.timedelta(days=1)


def searchable(dossier) -> Processing:
    """A born-digital PDF through its stages up to "done", its renditions not made yet."""
    version = file_version(dossier, PDF.path.read_bytes(), PDF.name)
    pipeline.process_version(version.id)
    return Processing.objects.get(version=version)


def test_a_pdf_is_searchable_before_its_thumbnail_is_made(dossier):
    processing = searchable(dossier)

    assert (processing.state, processing.renditions_state) == (State.DONE, State.PENDING)
    assert processing.text_id is not None
    assert [s["name"] for s in processing.steps] == ["fetch", "identify", "extract"]
    assert not Rendition.objects.filter(version=processing.version).exists()
    processed = Event.objects.filter(
        kind=EventKind.DOCUMENT_PROCESSED, document_id=processing.version.document_id
    )
    assert processed.count() == 1


def test_the_thumbnail_follows_and_is_recorded_as_a_step(dossier):
    processing = searchable(dossier)

    pipeline.make_renditions(processing.version_id)

    processing.refresh_from_db()
    assert (processing.state, processing.renditions_state) == (State.DONE, State.DONE)
    assert [s["name"] for s in processing.steps][-2:] == ["thumbnail", "page hashes"]
    assert Rendition.objects.get(version=processing.version).kind == "thumbnail"
    # Made once: a redelivered task finds nothing pending and changes nothing.
    assert pipeline.make_renditions(processing.version_id) is None
    assert Event.objects.filter(kind=EventKind.DOCUMENT_PROCESSED).count() == 1


def test_the_api_says_renditions_are_pending_then_done(registry, dossier):
    processing = searchable(dossier)
    url = f"/api/v1/documents/{processing.version.document_id}"

    before = registry.get(url).json()["versions"][0]
    pipeline.make_renditions(processing.version_id)
    after = registry.get(url).json()["versions"][0]

    assert before["processing"]["state"] == "done" and before["text_url"]
    assert (before["processing"]["renditions_state"], before["renditions"]) == ("pending", [])
    assert after["processing"]["renditions_state"] == "done"
    assert [r["kind"] for r in after["renditions"]] == ["thumbnail"]


def test_the_viewer_says_renditions_are_being_made(dossier):
    processing = searchable(dossier)
    url = f"/documents/{processing.version.document_id}"

    page = client_as(Role.EXAMINER).get(url).content.decode()
    assert 'id="renditions-pending"' in page

    pipeline.make_renditions(processing.version_id)
    page = client_as(Role.EXAMINER).get(url).content.decode()
    assert 'id="renditions-pending"' not in page
    assert "/versions/1/renditions/thumbnail" in page


def test_a_text_file_has_no_renditions_due(dossier):
    version = file_version(dossier, b"Claims: a clock escapement.", "claims.txt")
    processing = pipeline.run_to_completion(version.id)
    assert (processing.state, processing.renditions_state) == (State.DONE, "")


def test_reprocessing_makes_the_renditions_again(dossier):
    processing = searchable(dossier)
    pipeline.make_renditions(processing.version_id)

    pipeline.request_processing(processing.version, again=True)
    pipeline.process_version(processing.version_id)

    processing.refresh_from_db()
    assert (processing.stage, processing.renditions_state) == (Stage.EXTRACT, State.PENDING)
    assert not Rendition.objects.filter(version=processing.version).exists()


@pytest.fixture
def eager(django_capture_on_commit_callbacks):
    current_app.conf.task_always_eager = True
    yield lambda: _swept(django_capture_on_commit_callbacks)
    current_app.conf.task_always_eager = False


def _swept(capture):
    with capture(execute=True):
        return sweep()


def test_renditions_whose_task_was_lost_are_made_by_the_sweep(dossier, eager):
    processing = searchable(dossier)
    Processing.objects.filter(pk=processing.pk).update(renditions_at=LONG_AGO)

    report = eager()

    assert report.others["version renditions"] == 1
    processing.refresh_from_db()
    assert processing.renditions_state == State.DONE
    assert Rendition.objects.filter(version=processing.version, kind="thumbnail").exists()


def test_renditions_just_queued_are_left_to_their_task(dossier):
    processing = searchable(dossier)

    assert sweep().others["version renditions"] == 0
    processing.refresh_from_db()
    assert processing.renditions_state == State.PENDING


def test_renditions_whose_runner_died_are_taken_over(dossier, eager):
    processing = searchable(dossier)
    silent_since = timezone.now() - pipeline.renditions_stale_after() - dt.timedelta(minutes=1)
    Processing.objects.filter(pk=processing.pk).update(
        renditions_state=State.RUNNING, renditions_at=silent_since
    )

    assert eager().others["version renditions"] == 1
    processing.refresh_from_db()
    assert processing.renditions_state == State.DONE
