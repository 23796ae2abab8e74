"""The ingestion pipeline through its public surface: events, the pipeline function, the API."""

from __future__ import annotations

import datetime as dt

from celery import current_app
from django.utils import timezone

from dossier import blobstore
from dossier.models import AuditEvent, Event, EventKind
from ingest.models import Processing, Stage, State
from ingest.pipeline import process_version, run_to_completion
from ingest.subscribers import queue_processing
from tests.ingest_support import corpus_file, file_version

DOCX = corpus_file("67797f56_testWORD.docx")
PDF = corpus_file("0418910f_testPDF_twoAuthors.pdf")
PDFA = corpus_file("f05f2738_crazyones-pdfa.pdf")
ENCRYPTED_PDF = corpus_file("3e333bff_libreoffice-writer-password.pdf")
DAMAGED_PDF = corpus_file("d40f31f1_scan-bad.pdf")
ARABIC_PDF = corpus_file("1cad1de9_ArabicCIDTrueType.pdf")


def processed(dossier, corpus, **fields) -> Processing:
    version = file_version(dossier, corpus.path.read_bytes(), corpus.name, **fields)
    run_to_completion(version.id)
    return Processing.objects.get(version=version)


def step_names(processing: Processing) -> list[str]:
    return [step["name"] for step in processing.steps]


def test_a_born_digital_docx_is_identified_and_its_text_stored(dossier):
    processing = processed(dossier, DOCX)

    assert processing.state == State.DONE and processing.reason == ""
    assert step_names(processing)[:3] == ["fetch", "identify", "extract"]
    assert all(step["state"] in ("done", "skipped") for step in processing.steps)
    assert all(step["ms"] >= 0 for step in processing.steps)
    assert processing.media_type == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert processing.languages == ["en"]
    assert processing.metadata["title"] == "Sample Word Document"
    assert processing.metadata["author"] == "Keith Bennett"
    assert processing.metadata["created"].startswith("2008-12-11")
    text = b"".join(blobstore.read_chunks(processing.text_id)).decode()
    assert "This is a sample Microsoft Word Document" in text
    assert processing.text_chars == len(text)


def test_pdf_page_count_authors_and_pdfa_claim(dossier):
    two_authors = processed(dossier, PDF)
    assert two_authors.page_count == 1
    assert two_authors.metadata["author"] == "Sample Author 1; Sample Author 2"
    assert two_authors.metadata["title"] == "Sample Title"

    pdfa = processed(dossier, PDFA)
    assert pdfa.metadata["pdfa"] == "1B"
    assert pdfa.metadata["encrypted"] is False


def test_arabic_text_is_detected_as_arabic(dossier):
    processing = processed(dossier, ARABIC_PDF)
    assert processing.state == State.DONE
    assert processing.languages == ["ar"]


def test_an_encrypted_pdf_fails_with_an_actionable_reason(dossier):
    processing = processed(dossier, ENCRYPTED_PDF)

    assert processing.state == State.FAILED
    assert processing.reason_code == "encrypted-pdf"
    assert processing.reason == "password-protected PDF: ask the applicant for an unprotected copy"
    # qpdf's verdict, then the other readers' tries (`ingest.fallbacks`), which need it too:
    # what each said is in the step's detail, for operators.
    identify, extract = processing.steps[-2:]
    assert identify == {
        "name": "identify",
        "state": "failed",
        "ms": identify["ms"],
        "detail": "qpdf refused it: a password is required; trying other readers",
    }
    assert extract["name"] == "extract" and extract["state"] == "failed"
    assert extract["detail"].startswith("qpdf refused it: a password is required; tika-embedded: ")
    assert "; pdfium: " in extract["detail"]
    assert processing.text_id is None


def test_a_truncated_pdf_is_not_a_valid_pdf(dossier):
    content = PDFA.path.read_bytes()[:400]  # cut off in the middle of its first object
    version = file_version(dossier, content, "truncated.pdf")
    process_version(version.id)
    processing = Processing.objects.get(version=version)
    assert processing.state == State.FAILED
    assert processing.reason_code == "damaged-pdf"
    assert processing.reason == "damaged PDF that no reader here can open: ask for the file again"
    # qpdf's own words stay with the step, for operators.
    assert processing.steps[-1]["detail"].startswith("qpdf refused it: ")


def test_a_damaged_pdf_is_repaired_for_extraction_and_the_original_kept(dossier):
    processing = processed(dossier, DAMAGED_PDF)

    assert processing.state == State.DONE
    identify = processing.steps[1]
    assert "repaired a damaged file" in identify["detail"]
    sha256, size = blobstore.rehash(processing.version.blob_id)
    assert (sha256, size) == (DAMAGED_PDF.sha256, DAMAGED_PDF.path.stat().st_size)


def test_an_image_is_handed_to_the_ocr_queue_after_extraction(
    dossier, django_capture_on_commit_callbacks
):
    image = corpus_file("73a98cfe_smile.png")
    version = file_version(dossier, image.path.read_bytes(), image.name)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        process_version(version.id)

    processing = Processing.objects.get(version=version)
    assert processing.media_type == "image/png"
    assert (processing.state, processing.stage) == (State.PENDING, Stage.OCR)
    assert step_names(processing) == ["fetch", "identify", "extract"]
    assert len(callbacks) == 1  # the OCR task, queued once the hand-over is committed
    # The extraction queue does not take it again; only the OCR stage does.
    assert process_version(version.id) is None


def test_running_twice_processes_once(dossier):
    version = file_version(dossier, PDF.path.read_bytes(), PDF.name)
    first = process_version(version.id)
    second = process_version(version.id)

    assert first is not None and second is None
    processing = Processing.objects.get(version=version)
    assert processing.attempts == 1 and processing.state == State.DONE


def test_a_run_whose_worker_died_is_taken_over(dossier):
    version = file_version(dossier, PDF.path.read_bytes(), PDF.name)
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Processing.objects.create(version=version, state=State.RUNNING, started_at=long_ago)

    assert process_version(version.id) is not None
    processing = Processing.objects.get(version=version)
    assert processing.state == State.DONE and processing.attempts == 1


def test_a_run_in_progress_is_left_alone(dossier):
    version = file_version(dossier, DOCX.path.read_bytes(), DOCX.name)
    Processing.objects.create(version=version, state=State.RUNNING, started_at=timezone.now())

    assert process_version(version.id) is None
    assert Processing.objects.get(version=version).state == State.RUNNING


def test_a_missing_version_returns_quietly(db):
    assert process_version(987654) is None
    assert not Processing.objects.exists()


def test_a_new_version_is_queued_on_commit_and_processed(
    dossier, django_capture_on_commit_callbacks
):
    version = file_version(dossier, PDF.path.read_bytes(), PDF.name)
    event = Event.objects.get(kind=EventKind.DOCUMENT_REGISTERED, document_id=version.document_id)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue_processing([event])
        queue_processing([event])  # an event may arrive twice: still one row
    assert Processing.objects.get(version=version).state == State.PENDING

    # Run what would be sent to the `extract` queue in this process.
    current_app.conf.task_always_eager = True
    try:
        callbacks[0]()
    finally:
        current_app.conf.task_always_eager = False
    assert Processing.objects.get(version=version).state == State.DONE
    assert current_app.amqp.router.route({}, "ingest.tasks.process_version")["queue"].name == (
        "extract"
    )


def test_unrelated_events_are_ignored(dossier):
    file_version(dossier, DOCX.path.read_bytes(), DOCX.name)
    queue_processing(list(Event.objects.exclude(kind=EventKind.DOCUMENT_REGISTERED)))
    assert not Processing.objects.exists()


# --- API ------------------------------------------------------------------------------------


def test_document_detail_shows_processing_and_what_was_detected(registry, dossier):
    processing = processed(dossier, PDF)
    document_id = processing.version.document_id

    body = registry.get(f"/api/v1/documents/{document_id}").json()
    (version,) = body["versions"]
    assert version["processing"]["state"] == "done"
    assert version["processing"]["reason"] == ""
    assert version["processing"]["reason_code"] == ""
    assert [s["name"] for s in version["processing"]["steps"]] == step_names(processing)
    assert version["detected_media_type"] == "application/pdf"
    assert version["page_count"] == 1
    assert version["metadata"]["author"] == "Sample Author 1; Sample Author 2"
    assert version["text_url"] == f"/api/v1/documents/{document_id}/versions/1/text"


def test_text_endpoint_returns_plain_text(registry, dossier):
    processing = processed(dossier, DOCX)
    response = registry.get(f"/api/v1/documents/{processing.version.document_id}/versions/1/text")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    assert "This is a sample Microsoft Word Document" in text


def test_reading_the_text_is_audited_like_a_download(registry, dossier):
    processing = processed(dossier, DOCX)
    version = processing.version
    url = f"/api/v1/documents/{version.document_id}/versions/1/text"
    assert not AuditEvent.objects.filter(action="document.download").exists()

    assert registry.get(url).status_code == 200
    assert registry.get(url, HTTP_RANGE="bytes=0-9").status_code == 206

    full, ranged = AuditEvent.objects.filter(action="document.download").order_by("id")
    assert full.actor_label == "ipas"
    assert full.object_id == str(version.document_id)
    assert full.dossier_key == dossier.key
    assert full.detail == {"version": 1, "sha256": version.blob_id, "rendition": "text"}
    assert ranged.detail["range"] == "bytes=0-9"


def test_text_is_a_404_problem_until_done(registry, dossier):
    version = file_version(dossier, DOCX.path.read_bytes(), DOCX.name)
    response = registry.get(f"/api/v1/documents/{version.document_id}/versions/1/text")
    assert response.status_code == 404
    assert response.json()["type"] == "/api/v1/problems/text-not-available"

    failed = processed(dossier, ENCRYPTED_PDF)
    response = registry.get(f"/api/v1/documents/{failed.version.document_id}/versions/1/text")
    assert response.status_code == 404
    assert "failed" in response.json()["detail"]


def test_text_is_access_checked_like_the_document(public, dossier):
    processing = processed(dossier, DOCX, visibility="confidential")
    response = public.get(f"/api/v1/documents/{processing.version.document_id}/versions/1/text")
    assert response.status_code == 404
    assert response.json()["type"] == "/api/v1/problems/unknown-document"


def test_the_file_wrapper_listing_never_carries_text(registry, dossier):
    processed(dossier, DOCX)
    response = registry.get(f"/api/v1/dossiers/{dossier.key}/documents")

    assert response.status_code == 200
    assert b"sample Microsoft Word Document" not in response.content
    (item,) = response.json()["results"]
    assert item["latest"]["processing"]["state"] == "done"


def test_reprocess_runs_the_pipeline_again(registry, dossier, django_capture_on_commit_callbacks):
    processing = processed(dossier, DOCX)
    url = f"/api/v1/documents/{processing.version.document_id}/versions/1/reprocess"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = registry.post(url)
    assert response.status_code == 202
    assert response.json()["state"] == "pending"
    assert len(callbacks) == 1

    run_to_completion(processing.version_id)
    processing.refresh_from_db()
    assert processing.state == State.DONE and processing.attempts == 2


def test_reprocess_while_running_is_a_conflict(registry, dossier):
    version = file_version(dossier, DOCX.path.read_bytes(), DOCX.name)
    Processing.objects.create(version=version, state=State.RUNNING, started_at=timezone.now())
    response = registry.post(f"/api/v1/documents/{version.document_id}/versions/1/reprocess")
    assert response.status_code == 409
    assert response.json()["type"] == "/api/v1/problems/processing-in-progress"


def test_reprocess_needs_a_role_that_changes_documents(public, dossier):
    processing = processed(dossier, DOCX, visibility="public")
    dossier.published_at = dt.date(2024, 1, 1)
    dossier.save()
    url = f"/api/v1/documents/{processing.version.document_id}/versions/1/reprocess"
    assert public.post(url).status_code in (401, 403)


def test_text_of_an_unknown_version_is_a_404(registry, dossier):
    version = file_version(dossier, DOCX.path.read_bytes(), DOCX.name)
    response = registry.get(f"/api/v1/documents/{version.document_id}/versions/2/text")
    assert response.status_code == 404
    assert response.json()["type"] == "/api/v1/problems/unknown-version"
