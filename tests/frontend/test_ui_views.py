"""The web UI's pages over Django's test client: who sees what (the access module's rules, as in
the API), what each page shows, the ZIP download and its audit, languages, and query counts."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest
from django.test import Client
from django.utils import timezone

from dossier import blobstore
from dossier.models import AuditEvent, Blob, Rendition
from dossier.roles import Role
from ingest.pipeline import run_to_completion
from search import indexer
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.search_support import give_text
from tests.ui_support import large_dossier

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.localdate() - dt.timedelta(days=1)


def client_as(role: Role | None) -> Client:
    client = Client()
    if role is not None:
        client.force_login(UserFactory(role=role))
    return client


@pytest.fixture
def cabinet():
    """A published dossier (public, confidential and internal papers), an unpublished one."""
    published = create_dossier(
        "BG/P/2023/7",
        title="Published gearbox",
        published_at=YESTERDAY,
        filing_date=dt.date(2023, 1, 5),
        status="granted",
    )
    unpublished = create_dossier(
        "BG/T/2024/8", ip_type="trademark", title="Secret-ish mark", filing_date=dt.date(2024, 2, 1)
    )
    papers = {
        "public": file_document(
            published, b"%PDF-1.4 public", type_code="DESC", filename="desc.pdf", title="Desc"
        ),
        "confidential": file_document(
            published, b"confidential", visibility="confidential", title="Conf", direction="out"
        ),
        "internal": file_document(
            published, b"internal note", visibility="internal", title="Examiner note"
        ),
        "unpublished": file_document(unpublished, b"mark", title="Mark image"),
    }
    return {"published": published, "unpublished": unpublished, **papers}


# --- Finding dossiers ---------------------------------------------------------------------------


def test_home_lists_what_the_caller_may_see(cabinet):
    public_page = client_as(None).get("/").content.decode()
    assert "BG/P/2023/000007" in public_page
    assert "BG/T/2024/000008" not in public_page
    examiner_page = client_as(Role.EXAMINER).get("/").content.decode()
    assert "BG/P/2023/000007" in examiner_page and "BG/T/2024/000008" in examiner_page


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"ip_type": "trademark"}, "BG/T/2024/000008", "BG/P/2023/000007"),
        ({"year": "2023"}, "BG/P/2023/000007", "BG/T/2024/000008"),
        ({"published": "yes"}, "BG/P/2023/000007", "BG/T/2024/000008"),
        ({"published": "no"}, "BG/T/2024/000008", "BG/P/2023/000007"),
        ({"status": "granted"}, "BG/P/2023/000007", "BG/T/2024/000008"),
    ],
)
def test_dossier_list_filters(cabinet, query, shown, hidden):
    page = client_as(Role.EXAMINER).get("/", query).content.decode()
    assert shown in page
    assert hidden not in page


def test_dossier_list_is_paginated(db):
    for serial in range(1, 53):
        create_dossier(f"BG/P/2022/{serial}")
    client = client_as(Role.EXAMINER)
    first = client.get("/").content.decode()
    second = client.get("/", {"page": 2}).content.decode()
    assert first.count('<a href="/dossiers/BG/P/2022/') == 50
    assert second.count('<a href="/dossiers/BG/P/2022/') == 2 and "Page 2 of 2" in second


@pytest.mark.parametrize("typed", ["bg/p/2023/7", " BG / P / 2023 / 000007 ", "BG/P/2023/0007"])
def test_jump_box_takes_any_form_of_the_number(cabinet, typed):
    response = client_as(Role.EXAMINER).get("/go", {"number": typed})
    assert response.status_code == 302
    assert response["Location"] == "/dossiers/BG/P/2023/000007"


def test_jump_box_explains_nonsense_and_unknown_numbers(cabinet):
    client = client_as(Role.EXAMINER)
    nonsense = client.get("/go", {"number": "hello"}, follow=True).content.decode()
    assert "Not a file number" in nonsense
    unknown = client.get("/go", {"number": "BG/P/1999/1"}, follow=True).content.decode()
    assert "No dossier BG/P/1999/1" in unknown


def test_public_cannot_jump_to_an_unpublished_dossier(cabinet):
    response = client_as(None).get("/go", {"number": "BG/T/2024/8"}, follow=True)
    assert "No dossier BG/T/2024/8" in response.content.decode()
    response = client_as(None).get("/dossiers/BG/T/2024/000008")
    assert response.status_code == 404
    assert "There is nothing here, or you may not see it." in response.content.decode()


# --- The dossier page ---------------------------------------------------------------------------


def test_file_wrapper_shows_each_role_its_documents(cabinet):
    def rows(role):
        page = client_as(role).get("/dossiers/BG/P/2023/7").content.decode()
        return {name for name in ("Desc", "Conf", "Examiner note") if f">{name}</a>" in page}

    assert rows(None) == {"Desc"}
    assert rows(Role.RECORDS_CLERK) == {"Desc", "Conf"}
    assert rows(Role.EXAMINER) == {"Desc", "Conf", "Examiner note"}


def test_file_wrapper_row_has_type_label_direction_visibility_and_state(cabinet):
    page = client_as(Role.EXAMINER).get("/dossiers/BG/P/2023/7").content.decode()
    assert f'data-document="{cabinet["public"].id}"' in page
    assert "DESC" in page and "Description" in page
    assert "Confidential" in page and "Outgoing" in page
    assert 'class="state pending"' in page  # not processed yet (no worker in this test)


def test_file_wrapper_filters_and_sorts(cabinet):
    client = client_as(Role.EXAMINER)
    only_out = client.get("/dossiers/BG/P/2023/7", {"direction": "out"}).content.decode()
    assert ">Conf</a>" in only_out and ">Desc</a>" not in only_out
    only_desc = client.get("/dossiers/BG/P/2023/7", {"type": "DESC"}).content.decode()
    assert ">Desc</a>" in only_desc and ">Conf</a>" not in only_desc
    by_title = client.get("/dossiers/BG/P/2023/7", {"sort": "-title"}).content.decode()
    positions = [by_title.index(f">{t}</a>") for t in ("Examiner note", "Desc", "Conf")]
    assert positions == sorted(positions)


def test_upload_form_only_for_roles_that_may_file(cabinet):
    cabinet["unpublished"].dossier.published_at = YESTERDAY
    assert (
        'id="add-documents"'
        in client_as(Role.EXAMINER).get("/dossiers/BG/P/2023/7").content.decode()
    )
    assert 'id="add-documents"' not in client_as(None).get("/dossiers/BG/P/2023/7").content.decode()


def test_zip_holds_the_selected_visible_documents_and_audits_each(cabinet):
    client = client_as(Role.RECORDS_CLERK)
    ids = [str(cabinet[name].id) for name in ("public", "confidential", "internal")]
    response = client.post("/dossiers/BG/P/2023/7/zip", {"document": ids})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response.streaming
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    contents = {name: archive.read(name) for name in archive.namelist()}
    # The internal note is not the clerk's to read: silently left out, like in every list.
    assert sorted(contents.values()) == [b"%PDF-1.4 public", b"confidential"]
    assert any(name.endswith("_DESC_desc.pdf") for name in contents)
    audited = AuditEvent.objects.filter(action="document.download", dossier_key="BG/P/2023/7")
    assert sorted(audited.values_list("object_id", flat=True)) == sorted(ids[:2])


def test_zip_without_selection_goes_back_with_a_message(cabinet):
    response = client_as(Role.EXAMINER).post("/dossiers/BG/P/2023/7/zip", follow=True)
    assert "Select at least one document" in response.content.decode()


def test_dossier_page_queries_are_bounded(db, django_assert_max_num_queries):
    large_dossier("BG/P/2020/500", 500)
    client = client_as(Role.EXAMINER)
    client.get("/dossiers/BG/P/2020/500")  # warm caches (content types, permissions)
    # 14: the notes on the dossier are one query (they give the rows' counts too); its WIPO
    # DAS requests another.
    with django_assert_max_num_queries(14):
        response = client.get("/dossiers/BG/P/2020/500")
    page = response.content.decode()
    # A page of the file wrapper (tests/frontend/test_ui_file_wrapper.py), counted in full.
    assert page.count("<tr data-document=") == 100 and "500 documents" in page
    assert 'class="state failed"' in page and 'class="state done"' in page


# --- The viewer ---------------------------------------------------------------------------------


def test_viewer_picks_pdf_js_for_pdfs_and_lists_versions(cabinet):
    page = client_as(Role.EXAMINER).get(f"/documents/{cabinet['public'].id}").content.decode()
    assert 'data-kind="pdf"' in page
    # By its hashed name (collectstatic's manifest), cached for a year.
    assert re.search(r"vendor/pdfjs/build/pdf\.worker\.min\.[0-9a-f]{12}\.mjs", page)
    assert f"/api/v1/documents/{cabinet['public'].id}/versions/1/content" in page
    assert "Version 1" in page


def test_viewer_shows_text_for_formats_a_browser_cannot_show(cabinet):
    page = client_as(Role.EXAMINER).get(f"/documents/{cabinet['internal'].id}").content.decode()
    assert 'data-kind="text"' in page
    assert f"/api/v1/documents/{cabinet['internal'].id}/versions/1/text" in page


def test_viewer_says_whether_a_version_is_not_read_yet_or_has_no_text(dossier):
    document = file_document(dossier, b"   \n", filename="blank.txt")
    client, viewer = client_as(Role.EXAMINER), f"/documents/{document.id}"

    unread = client.get(viewer).content.decode()
    run_to_completion(document.versions.get().id)
    read = client.get(viewer).content.decode()

    unread_says = "Not read yet: its text appears here once processing is done."
    assert f'data-unavailable="{unread_says}"' in unread
    assert 'data-unavailable="No text was found in this file."' in read
    assert "No extracted text yet" not in unread + read


def _give_rendition(document, kind: str, content: bytes) -> None:
    """Attach a rendition as the pipeline stores it: content-addressed, beside the original."""
    staged = blobstore.spool([content], filename=f"rendition.{kind}.pdf")
    blobstore.promote(staged)
    blob, _ = Blob.objects.get_or_create(
        sha256=staged.sha256, defaults={"size": staged.size, "media_type": "application/pdf"}
    )
    staged.discard()
    version = document.versions.get(number=1)
    Rendition.objects.create(version=version, kind=kind, blob=blob, media_type="application/pdf")


def test_viewer_shows_an_office_document_as_its_pdf_rendition(cabinet):
    document = cabinet["internal"]
    _give_rendition(document, "pdf", b"%PDF-1.7 office rendition")
    page = client_as(Role.EXAMINER).get(f"/documents/{document.id}").content.decode()
    rendition_url = f"/api/v1/documents/{document.id}/versions/1/renditions/pdf"
    assert 'data-kind="pdf"' in page
    assert f'data-url="{rendition_url}"' in page
    # The original stays what "Download" gives.
    assert f"/api/v1/documents/{document.id}/versions/1/content" in page
    assert "Renditions" in page


def test_viewer_prefers_the_ocr_pdfa_of_a_scan(cabinet):
    document = cabinet["public"]
    _give_rendition(document, "pdfa", b"%PDF-1.7 ocr text layer")
    page = client_as(Role.EXAMINER).get(f"/documents/{document.id}").content.decode()
    assert f'data-url="/api/v1/documents/{document.id}/versions/1/renditions/pdfa"' in page


def test_viewer_respects_access(cabinet):
    for name in ("confidential", "internal", "unpublished"):
        assert client_as(None).get(f"/documents/{cabinet[name].id}").status_code == 404
    assert (
        client_as(Role.RECORDS_CLERK).get(f"/documents/{cabinet['internal'].id}").status_code == 404
    )
    assert client_as(None).get(f"/documents/{cabinet['public'].id}").status_code == 200


def test_viewer_opens_on_the_requested_page_with_terms(cabinet):
    url = f"/documents/{cabinet['public'].id}?page=3&hl=gear"
    page = client_as(Role.EXAMINER).get(url).content.decode()
    assert 'data-page="3"' in page and 'data-terms="gear"' in page


# --- Search -------------------------------------------------------------------------------------


@pytest.fixture
def indexed(cabinet, search_backend):
    give_text(cabinet["public"], "The gearbox sprocket turns.\fSecond page.\fThe sprocket again.")
    give_text(cabinet["confidential"], "sprocket tolerances")
    give_text(cabinet["unpublished"], "sprocket trademark drawing")
    indexer.sync()
    return cabinet


def test_search_page_shows_hits_with_marks_and_facets(indexed):
    page = client_as(Role.EXAMINER).get("/search", {"q": "sprocket"}).content.decode()
    assert "3 documents found" in page
    assert "<mark>sprocket</mark>" in page
    assert "Document type" in page and "DESC — Description" in page
    assert f"/documents/{indexed['public'].id}?version=1" in page


def test_search_is_the_callers_view(indexed):
    page = client_as(None).get("/search", {"q": "sprocket"}).content.decode()
    assert "1 document found" in page
    assert str(indexed["confidential"].id) not in page


def test_search_within_a_dossier_and_by_facet(indexed):
    client = client_as(Role.EXAMINER)
    within = client.get("/search", {"q": "sprocket", "dossier": "BG/T/2024/8"}).content.decode()
    assert "1 document found" in within and str(indexed["unpublished"].id) in within
    by_type = client.get("/search", {"q": "sprocket", "type": "DESC"}).content.decode()
    assert "1 document found" in by_type


def test_search_explains_a_malformed_query(indexed):
    page = client_as(Role.EXAMINER).get("/search", {"q": '"unclosed'}).content.decode()
    assert "The query is not valid" in page


# --- Languages and sign-in ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "direction", "word"),
    [
        ("en", "ltr", "Dossiers"),
        ("fr", "ltr", "Dossiers"),
        ("es", "ltr", "Expedientes"),
        ("ar", "rtl", "الملفات"),
    ],
)
def test_languages_and_direction(cabinet, language, direction, word):
    client = client_as(Role.EXAMINER)
    response = client.post("/i18n/setlang/", {"language": language, "next": "/"}, follow=True)
    page = response.content.decode()
    assert f'<html lang="{language}" dir="{direction}">' in page
    assert word in page


def test_document_type_labels_follow_the_ui_language(cabinet):
    client = client_as(Role.EXAMINER)
    client.post("/i18n/setlang/", {"language": "fr"})
    page = client.get("/dossiers/BG/P/2023/7").content.decode()
    assert "Description" in page  # DESC's French label is also "Description"
    assert "Revendications" in page  # CLM


def test_sign_in_and_out(db):
    UserFactory(username="erika", password="pw", role=Role.EXAMINER)
    client = Client()
    response = client.post("/login", {"username": "erika", "password": "pw"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "erika" in client.get("/").content.decode()
    client.post("/logout")
    assert "erika" not in client.get("/").content.decode()


def test_wrong_password_is_refused(db):
    UserFactory(username="erika", password="pw", role=Role.EXAMINER)
    page = Client().post("/login", {"username": "erika", "password": "no"}).content.decode()
    assert "did not match" in page


# --- Operations ---------------------------------------------------------------------------------


@pytest.fixture
def failed_version(cabinet):
    from ingest import pipeline
    from ingest.models import Processing, State

    version = cabinet["confidential"].versions.get()
    processing, _ = Processing.objects.get_or_create(version=version)
    pipeline._finish(processing, State.FAILED, "encrypted-pdf")
    return version


def test_operations_lists_failed_versions_with_reasons(failed_version):
    page = client_as(Role.RECORDS_CLERK).get("/operations").content.decode()
    assert "password-protected PDF: ask the applicant for an unprotected copy" in page
    assert f'data-document="{failed_version.document_id}"' in page
    failed_row = '<tr data-state="failed"><td><span class="state failed">failed</span></td>'
    assert f'{failed_row}<td class="num">1</td>' in page


def test_a_failure_reason_is_shown_in_the_ui_language(failed_version):
    # Stored in English with its code (what the API returns); each page translates it.
    client = client_as(Role.RECORDS_CLERK)
    client.post("/i18n/setlang/", {"language": "fr"})
    french = "PDF protégé par mot de passe : demandez au déposant une copie non protégée"
    document_id = failed_version.document_id
    assert french in client.get("/operations").content.decode()
    viewer = client.get(f"/documents/{document_id}").content.decode()
    assert f'<span class="error" id="failure-reason">{french}</span>' in viewer
    state = client.get(f"/documents/{document_id}/state").json()
    assert state["state"] == "failed" and state["reason"] == french
    processing = client.get(f"/api/v1/documents/{document_id}").json()["versions"][0]["processing"]
    assert processing["reason_code"] == "encrypted-pdf"
    assert processing["reason"] == (
        "password-protected PDF: ask the applicant for an unprotected copy"
    )


def test_a_failure_recorded_before_reasons_had_codes_shows_its_stored_reason(failed_version):
    failed_version.processing.__class__.objects.filter(version=failed_version).update(
        reason="encrypted PDF: a password is required", reason_code=""
    )
    page = client_as(Role.RECORDS_CLERK).get("/operations").content.decode()
    assert "encrypted PDF: a password is required" in page


def test_operations_shows_what_waits_on_each_queue(cabinet):
    from ingest.models import Processing, Stage, State

    waiting_ocr = cabinet["public"].versions.get()
    Processing.objects.create(version=waiting_ocr, state=State.PENDING, stage=Stage.OCR)
    page = client_as(Role.RECORDS_CLERK).get("/operations").content.decode()
    assert '<tr data-queue="ocr"><td>ocr</td><td class="num">1</td></tr>' in page
    assert '<tr data-queue="extract"><td>extract</td><td class="num">0</td></tr>' in page
    assert 'data-queue="index"' in page


def test_operations_is_not_for_the_public(failed_version):
    response = client_as(None).get("/operations")
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_retry_queues_the_version_again(failed_version):
    client = client_as(Role.EXAMINER)
    url = f"/operations/retry/{failed_version.document_id}/1"
    page = client.post(url, follow=True).content.decode()
    assert "Processing queued again." in page
    failed_version.processing.refresh_from_db()
    assert failed_version.processing.state == "pending"
    assert client_as(None).post(url).status_code in (403, 404)


def test_file_wrapper_grouped_by_direction(cabinet):
    page = client_as(Role.EXAMINER).get("/dossiers/BG/P/2023/7", {"group": "direction"})
    html = page.content.decode()
    headers = re.findall(r'<th colspan="8" scope="rowgroup">([^<]+)</th>', html)
    assert headers == ["Incoming", "Outgoing"]
    # The outgoing paper comes after the group header of its direction.
    assert html.index(">Conf</a>") > html.index('scope="rowgroup">Outgoing<')


def test_operations_refuses_signed_in_users_without_a_role(db):
    client = Client()
    client.force_login(UserFactory(username="nobody"))
    assert client.get("/operations").status_code == 403


def test_document_state_says_when_a_document_is_searchable(cabinet, search_backend):
    client = client_as(Role.EXAMINER)
    url = f"/documents/{cabinet['public'].id}/state"
    assert client.get(url).json() == {"state": "pending", "searchable": False, "label": "pending"}
    give_text(cabinet["public"], "gear teeth")
    assert client.get(url).json()["state"] == "done"
    assert client.get(url).json()["searchable"] is False
    indexer.sync()
    assert client.get(url).json() == {"state": "done", "searchable": True, "label": "searchable"}
    assert client_as(None).get(f"/documents/{cabinet['internal'].id}/state").status_code == 404


def test_search_by_date_range_keeps_facet_filters(indexed):
    client = client_as(Role.EXAMINER)
    params = {"q": "sprocket", "date_to": "2020-01-01"}
    assert "0 documents found" in client.get("/search", params).content.decode()
    page = client.get("/search", {"q": "sprocket", "type": "DESC", "sort": "date"}).content
    assert b'<input type="hidden" name="type" value="DESC">' in page
    assert b"1 document found" in page
