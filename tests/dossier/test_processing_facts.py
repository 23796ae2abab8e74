"""What processing found is a domain fact on the version (`dossier.processing_facts`): recorded
when a run finishes (the text only when it finished done), withdrawn, renditions included, when
a run starts afresh; ingest's run state stays in its processing row."""

from __future__ import annotations

from ingest import pipeline
from ingest.models import Processing, State
from tests.ingest_support import corpus_file, file_version

PDF = corpus_file("0418910f_testPDF_twoAuthors.pdf")


def processed(dossier, corpus):
    version = file_version(dossier, corpus.path.read_bytes(), corpus.name)
    pipeline.run_to_completion(version.id)
    version.refresh_from_db()
    return version, Processing.objects.get(version=version)


def test_a_done_run_leaves_its_findings_on_the_version(dossier):
    version, processing = processed(dossier, PDF)

    assert processing.state == State.DONE
    assert version.detected_media_type == "application/pdf" == processing.media_type
    assert version.page_count == 1 == processing.page_count
    assert version.languages == processing.languages
    assert version.metadata == processing.metadata
    assert version.text_id is not None and version.text_id == processing.text_id
    assert [r.kind for r in version.renditions.all()] == ["thumbnail"]


def test_a_failed_run_leaves_what_it_found_but_no_text(dossier):
    done, _ = processed(dossier, PDF)
    version = file_version(dossier, PDF.path.read_bytes(), "again.pdf")
    # As a run that found all this, then failed (OCR that gave up, say).
    processing = Processing.objects.create(
        version=version,
        state=State.RUNNING,
        media_type="application/pdf",
        page_count=2,
        languages=["de"],
        metadata={"title": "Half read"},
        text_id=done.text_id,
    )
    pipeline._finish(processing, State.FAILED, "gave-up-retrying")

    version.refresh_from_db()
    assert (version.detected_media_type, version.page_count) == ("application/pdf", 2)
    assert (version.languages, version.metadata) == (["de"], {"title": "Half read"})
    assert version.text_id is None


def test_a_fresh_run_withdraws_what_the_last_one_found(dossier, django_capture_on_commit_callbacks):
    version, _ = processed(dossier, PDF)
    with django_capture_on_commit_callbacks(execute=False):  # claimed below, not by a task
        pipeline.request_processing(version, again=True)

    running = pipeline.claim(version.id)

    assert running is not None and running.state == State.RUNNING
    version.refresh_from_db()
    assert (version.detected_media_type, version.page_count, version.text_id) == ("", None, None)
    assert (version.languages, version.metadata) == ([], {})
    assert not version.renditions.exists()
