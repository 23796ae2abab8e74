"""Renditions (office → PDF by LibreOffice, thumbnails), their API, the dossier's text status, and
what edms says when the system programs are missing."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import subprocess

import pikepdf
import pytest
from django.core.management import call_command
from PIL import Image

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import Rendition
from edms.launcher import _renditions_status
from ingest import capabilities
from ingest.checks import check_renditions
from ingest.models import Processing, Stage, State
from ingest.pipeline import request_processing, run_to_completion
from tests.conftest import file_document
from tests.ingest_support import (
    OFFICE_PROGRAMS,
    PROJECT_ROOT,
    corpus_file,
    file_version,
    jobs_left_running,
    require_programs,
)

DOCX = corpus_file("67797f56_testWORD.docx")
PDF = corpus_file("0418910f_testPDF_twoAuthors.pdf")
ENCRYPTED_PDF = corpus_file("3e333bff_libreoffice-writer-password.pdf")


def processed(dossier, corpus, **fields) -> Processing:
    version = file_version(dossier, corpus.path.read_bytes(), corpus.name, **fields)
    run_to_completion(version.id)
    return Processing.objects.get(version=version)


def rendition_bytes(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content)


def assert_png_thumbnail(content: bytes, width: int = 320) -> None:
    with Image.open(io.BytesIO(content)) as image:
        image.verify()
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "PNG" and image.width == width and image.height > 0


@pytest.fixture
def without_system_programs(monkeypatch, tmp_path):
    """A machine without Tesseract, Ghostscript or LibreOffice (an empty PATH for lookups)."""
    monkeypatch.setenv("PATH", str(tmp_path))
    capabilities.tesseract_packs.cache_clear()
    yield
    capabilities.tesseract_packs.cache_clear()


# --- Office documents and thumbnails ----------------------------------------------------------


def test_an_office_document_gets_a_pdf_for_viewing_on_the_render_queue(dossier):
    require_programs(*OFFICE_PROGRAMS)

    processing = processed(dossier, DOCX)

    assert processing.state == State.DONE, processing.reason
    # Searchable after extraction; LibreOffice's PDF followed on the render queue.
    assert (processing.stage, processing.renditions_state) == (Stage.EXTRACT, State.DONE)
    names = [step["name"] for step in processing.steps]
    assert names == ["fetch", "identify", "extract", "pdf", "thumbnail", "page hashes"]
    assert all(step["state"] == "done" for step in processing.steps), processing.steps
    kinds = {r.kind: r for r in Rendition.objects.filter(version=processing.version)}
    assert set(kinds) == {"pdf", "thumbnail"}
    assert kinds["pdf"].media_type == "application/pdf"
    # LibreOffice ran in the sandbox's process group, with its own profile: nothing is left.
    assert not jobs_left_running()


def test_office_pdf_and_thumbnail_through_the_api(registry, dossier):
    require_programs(*OFFICE_PROGRAMS)
    processing = processed(dossier, DOCX)

    body = registry.get(f"/api/v1/documents/{processing.version.document_id}").json()
    renditions = {r["kind"]: r for r in body["versions"][0]["renditions"]}
    assert set(renditions) == {"pdf", "thumbnail"}
    pdf = rendition_bytes(registry, renditions["pdf"]["url"])
    assert hashlib.sha256(pdf).hexdigest() == renditions["pdf"]["sha256"]
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert len(document.pages) >= 1
    thumbnail = rendition_bytes(registry, renditions["thumbnail"]["url"])
    assert renditions["thumbnail"]["media_type"] == "image/png"
    assert_png_thumbnail(thumbnail)


def test_a_born_digital_pdf_gets_its_thumbnail_without_another_queue(dossier):
    processing = processed(dossier, PDF)

    assert (processing.state, processing.stage) == (State.DONE, Stage.EXTRACT)
    assert [s["name"] for s in processing.steps][-2:] == ["thumbnail", "page hashes"]
    (thumbnail,) = Rendition.objects.filter(version=processing.version)
    assert thumbnail.kind == "thumbnail"
    assert_png_thumbnail(b"".join(blobstore.read_chunks(thumbnail.blob_id)))


def test_rendition_downloads_have_etag_ranges_and_conditional_get(registry, dossier):
    processing = processed(dossier, PDF)
    url = f"/api/v1/documents/{processing.version.document_id}/versions/1/renditions/thumbnail"
    full = rendition_bytes(registry, url)
    etag = f'"{hashlib.sha256(full).hexdigest()}"'

    response = registry.get(url)
    assert response["ETag"] == etag
    assert response["Content-Type"] == "image/png"
    assert response["Content-Length"] == str(len(full))
    ranged = registry.get(url, HTTP_RANGE="bytes=0-7")
    assert ranged.status_code == 206
    assert b"".join(ranged.streaming_content) == full[:8] == b"\x89PNG\r\n\x1a\n"
    assert registry.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_renditions_are_access_checked_like_the_document(public, registry, dossier):
    processing = processed(dossier, PDF, visibility="confidential")
    url = f"/api/v1/documents/{processing.version.document_id}/versions/1/renditions/thumbnail"

    assert registry.get(url).status_code == 200
    response = public.get(url)
    assert response.status_code == 404
    assert response.json()["type"] == "/api/v1/problems/unknown-document"


def test_a_missing_rendition_is_a_404_problem(registry, dossier):
    processing = processed(dossier, PDF)
    url = f"/api/v1/documents/{processing.version.document_id}/versions/1/renditions/pdfa"

    response = registry.get(url)
    assert response.status_code == 404
    assert response.json()["type"] == "/api/v1/problems/unknown-rendition"


def test_reprocessing_regenerates_renditions(dossier):
    processing = processed(dossier, PDF)
    first = Rendition.objects.get(version=processing.version)

    request_processing(processing.version, again=True)
    run_to_completion(processing.version_id)

    (again,) = Rendition.objects.filter(version=processing.version)
    assert again.pk != first.pk and again.blob_id == first.blob_id  # same PNG, stored once


# --- Text status ------------------------------------------------------------------------------


def test_a_dossier_shows_its_text_status_in_one_query(
    examiner, public, dossier, django_assert_num_queries
):
    processed(dossier, PDF)  # searchable
    processed(dossier, ENCRYPTED_PDF)  # failed
    file_version(dossier, PDF.path.read_bytes(), "not-yet.pdf")  # not processed yet
    cancelled = file_document(dossier, b"withdrawn", filename="withdrawn.txt")
    actions.cancel_document(cancelled, reason="filed by mistake", actor=Actor(label="tests"))
    url = f"/api/v1/dossiers/{dossier.key}"

    examiner.get(url)  # warm up the API key's last-used time
    # API key, the examiner's user and group permissions (may they see secret dossiers?),
    # the dossier, and one aggregate for the text status however many documents there are.
    with django_assert_num_queries(5):
        body = examiner.get(url).json()
    assert body["text_status"] == {
        "searchable": 1,
        "processing": 1,
        "failed": 1,
        "without_text": 0,
        "total": 3,
    }

    # The public counts only what it may see: nothing of an unpublished dossier is visible.
    dossier.published_at = dt.date(2024, 1, 1)
    dossier.save()
    public_status = public.get(url).json()["text_status"]
    assert public_status == body["text_status"]  # all are public after publication
    assert examiner.get("/api/v1/dossiers").json()["results"][0].get("text_status") is None


# --- Missing system programs ----------------------------------------------------------------


def test_capabilities_say_what_is_enabled(registry, public):
    require_programs("tesseract", "gs", *OFFICE_PROGRAMS)

    body = registry.get("/api/v1/ingest/capabilities").json()

    kinds = {r["kind"]: r for r in body["renditions"]}
    assert set(kinds) == {"pdfa", "pdf", "thumbnail"}
    assert all(r["enabled"] and r["missing"] == [] for r in kinds.values())
    assert {"ara", "chi_sim", "chi_tra", "eng", "fra", "jpn", "rus", "spa"} <= set(
        body["ocr_languages"]
    )
    assert public.get("/api/v1/ingest/capabilities").status_code == 401
    assert check_renditions(None) == []


def test_without_the_programs_edms_runs_and_says_which_renditions_are_disabled(
    registry, dossier, without_system_programs
):
    body = registry.get("/api/v1/ingest/capabilities").json()
    kinds = {r["kind"]: r for r in body["renditions"]}
    assert kinds["pdfa"]["enabled"] is False and kinds["pdfa"]["missing"] == ["tesseract", "gs"]
    assert kinds["pdf"]["enabled"] is False and kinds["pdf"]["missing"] == ["libreoffice"]
    assert kinds["thumbnail"]["enabled"] is True

    assert [w.id for w in check_renditions(None)] == ["ingest.W001", "ingest.W002"]
    status = _renditions_status()
    assert status.startswith("WARNING renditions disabled: pdfa (missing tesseract, gs)")
    assert "pdf (missing libreoffice)" in status
    call_command("check")  # warnings do not stop edms

    # A scan is processed to the end, without text, and the steps say why.
    scan = processed(dossier, corpus_file("472407ff_US11762912.pdf"))
    assert scan.state == State.DONE and scan.text_id is None
    plan = next(s for s in scan.steps if s["name"] == "plan")
    assert plan["state"] == "skipped" and "tesseract, gs not found" in plan["detail"]
    office = processed(dossier, DOCX)
    assert office.state == State.DONE and office.text_id is not None
    office_plan = next(s for s in office.steps if s["name"] == "plan")
    assert "libreoffice not found" in office_plan["detail"]


def test_the_install_script_does_nothing_when_everything_is_installed():
    require_programs("tesseract", "gs", *OFFICE_PROGRAMS)
    script = PROJECT_ROOT / "infra" / "install-system-packages.sh"

    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
