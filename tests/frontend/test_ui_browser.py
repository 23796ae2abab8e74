"""The web UI in a real browser: Debian's Chromium driven by Playwright against a live server
(the `browser` and `page` fixtures are in `tests/browser_support.py`)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from dossier.models import AuditEvent
from dossier.roles import Role
from search import indexer
from tests.browser_support import PASSWORD, sign_in
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.search_support import give_text
from tests.services import running_worker

# Serialized rollback restores the migrations' rows (groups, document types) after each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
CORPUS = Path(settings.BASE_DIR).parent / "shared" / "corpus"
# A born-digital PDF of five pages with a text layer (pdf.js's own test file).
FIVE_PAGES = CORPUS / "pdf" / "851fb6bf_file_pdfjs_test.pdf"
# 352 pages, 2.6 MB (Lessig's "Free Culture", from pdf.js's test files).
LARGE_PDF = CORPUS / "pdf" / "753441c6_freeculture.pdf"


@pytest.fixture
def examiner_user(transactional_db):
    return UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)


@pytest.fixture
def five_page_pdf(transactional_db):
    dossier = create_dossier(
        "BG/P/2024/4242",
        title="Escapement for a clock",
        published_at=timezone.localdate() - dt.timedelta(days=3),
        filing_date=dt.date(2024, 1, 9),
        applicants=[{"name": "Horlogerie SA"}],
        status="filed",
    )
    document = file_document(
        dossier,
        FIVE_PAGES.read_bytes(),
        type_code="DESC",
        filename="description.pdf",
        title="Description",
    )
    return document


def test_sign_in(page, examiner_user):
    sign_in(page, "erika")
    assert page.locator(".account .who").inner_text() == "erika"


def test_find_a_dossier_by_number(page, examiner_user, five_page_pdf):
    sign_in(page, "erika")
    page.get_by_label("File number").fill("bg/p/2024/4242")
    page.get_by_role("button", name="Open").click()
    page.wait_for_url("**/dossiers/BG/P/2024/004242")
    assert "Escapement for a clock" in page.locator("h1").inner_text()
    assert page.locator("#wrapper tbody tr").count() == 1


def test_open_a_pdf_and_go_to_page_3(page, examiner_user, five_page_pdf):
    sign_in(page, "erika")
    page.goto("/dossiers/BG/P/2024/4242")
    page.get_by_role("link", name="Description").click()
    page.wait_for_selector("#viewer-root[data-ready='true']")
    assert page.locator("#page-count").inner_text() == "5"
    page.get_by_label("Page", exact=True).fill("3")
    page.get_by_label("Page", exact=True).press("Enter")
    page.wait_for_selector("#viewer-root[data-current-page='3']")
    # pdf.js rendered page 3 (canvas and text layer) from the content endpoint.
    page.wait_for_selector(".page[data-page-number='3'] canvas")
    page.wait_for_selector(".page[data-page-number='3'] .textLayer span")


def test_a_large_pdf_opens_on_page_1_from_byte_ranges(page, examiner_user):
    dossier = create_dossier("BG/P/2024/352", title="A long book")
    document = file_document(
        dossier, LARGE_PDF.read_bytes(), type_code="DESC", filename="book.pdf", title="Book"
    )
    size = LARGE_PDF.stat().st_size
    statuses: list[int] = []
    page.on(
        "response",
        lambda response: "/content" in response.url and statuses.append(response.status),
    )
    sign_in(page, "erika")
    page.goto(f"/documents/{document.id}")
    page.wait_for_selector("#viewer-root[data-ready='true']")
    page.wait_for_selector(".page[data-page-number='1'] canvas")
    assert page.locator("#page-count").inner_text() == "352"
    # pdf.js asked for byte ranges (206) rather than reading the whole file first.
    assert 206 in statuses
    ranges = AuditEvent.objects.filter(action="document.download", object_id=str(document.id))
    fetched = sum(_range_length(event.detail.get("range", "")) for event in ranges)
    assert 0 < fetched < size // 2, f"{fetched} of {size} bytes fetched to show page 1"


def _range_length(header: str) -> int:
    match = re.match(r"bytes=(\d+)-(\d+)$", header)
    return int(match[2]) - int(match[1]) + 1 if match else 0


def test_switch_to_arabic_renders_right_to_left(page, examiner_user, five_page_pdf):
    sign_in(page, "erika")
    page.goto("/dossiers/BG/P/2024/4242")
    page.get_by_label("Language").select_option("ar")
    page.get_by_role("button", name="Switch").click()
    page.wait_for_selector("html[dir='rtl']")
    assert page.locator("html").get_attribute("lang") == "ar"
    assert page.locator("#wrapper-title").inner_text() == "وثائق الملف"
    # Mirrored, not only the text: the table's first column starts at the right.
    box = page.locator("#wrapper thead th").first.bounding_box()
    last = page.locator("#wrapper thead th").last.bounding_box()
    assert box["x"] > last["x"]


def test_public_visitor_cannot_reach_an_unpublished_dossier(page, transactional_db):
    create_dossier("BG/P/2025/77", title="Not yet public")
    response = page.goto("/dossiers/BG/P/2025/77")
    assert response.status == 404
    page.goto("/")
    page.get_by_label("File number").fill("BG/P/2025/77")
    page.get_by_role("button", name="Open").click()
    page.wait_for_selector(".messages")
    assert "No dossier BG/P/2025/77" in page.locator(".messages").inner_text()
    assert "Not yet public" not in page.content()


def test_search_and_open_a_hit_on_its_page(page, examiner_user, five_page_pdf, search_backend):
    # The text as ingestion leaves it, pages separated by form feeds: "reftest" is on page 2.
    give_text(
        five_page_pdf,
        "Mozilla automated testing.\f"
        "A reftest verifies that two web pages are rendered identically.\f"
        "Talos tests on buildbot.",
    )
    indexer.sync()
    sign_in(page, "erika")
    page.goto("/search")
    page.get_by_label("Query").fill("reftest")
    page.get_by_role("button", name="Search").last.click()
    page.wait_for_selector(".hit")
    assert page.locator(".hit .snippet mark").first.inner_text().lower() == "reftest"
    assert "page 2" in page.locator(".hit .meta").first.inner_text()
    page.locator(".hit h3 a").first.click()
    page.wait_for_selector("#viewer-root[data-ready='true']")
    page.wait_for_selector("#viewer-root[data-current-page='2']")
    assert page.locator("#find").input_value().lower() == "reftest"
    # pdf.js found the term in page 2's text layer and highlighted it there.
    highlight = page.locator(".page[data-page-number='2'] .textLayer .highlight").first
    highlight.wait_for()
    assert "reftest" in highlight.inner_text().lower()
    assert page.locator("#page-number").input_value() == "2"


@pytest.fixture(scope="module")
def ingest_worker(django_db_setup, tmp_path_factory):
    with running_worker(
        tmp_path_factory.mktemp("celery") / "worker.log",
        queues=["celery", "extract", "interactive", "index"],
    ) as worker:
        yield worker


@pytest.mark.worker
def test_upload_two_files_and_watch_them_become_searchable(
    page, examiner_user, ingest_worker, tmp_path, settings
):
    settings.EDMS_SEARCH = {
        "BACKEND": "search.backends.embedded.Backend",
        "OPTIONS": {"path": str(tmp_path / "search")},
    }
    create_dossier("BG/P/2024/5151", title="Uploads")
    note = tmp_path / "reply.txt"
    note.write_text("Reply to the office action: the claims are amended.")
    sign_in(page, "erika")
    page.goto("/dossiers/BG/P/2024/5151")
    page.locator("#file-input").set_input_files([str(FIVE_PAGES), str(note)])
    rows = page.locator("#uploads li")
    assert rows.count() == 2
    rows.nth(0).locator("select.type").select_option("DESC")
    rows.nth(1).locator("select.type").select_option("RESP")
    rows.nth(1).locator("input.date").fill("2024-06-30")
    page.get_by_role("button", name="Upload").click()
    for index in range(2):
        row = rows.nth(index)
        page.wait_for_function(
            "i => document.querySelectorAll('#uploads li')[i].dataset.state === 'searchable'",
            arg=index,
            timeout=120_000,
        )
        assert row.locator("progress").get_attribute("value") == "100"
        assert row.locator(".status").inner_text() == "searchable"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "upload-list-searchable.png"), full_page=True)
    page.reload()
    assert page.locator("#wrapper tbody tr").count() == 2
    assert page.locator("#wrapper .state.done").count() == 2


def test_keyboard_only_from_the_jump_box_to_the_viewer(page, examiner_user, five_page_pdf):
    sign_in(page, "erika")
    page.goto("/")
    # The first Tab reaches the skip link, which is visible when focused.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.focus("#jump-number")
    page.keyboard.type("BG/P/2024/4242")
    page.keyboard.press("Enter")
    page.wait_for_url("**/dossiers/BG/P/2024/004242")
    link = page.get_by_role("link", name="Description")
    link.focus()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")
    page.wait_for_selector("#viewer-root[data-ready='true']")
    page.focus("#next-page")
    page.keyboard.press("Enter")
    page.wait_for_selector("#viewer-root[data-current-page='2']")


# --- Issue 16's polish as a reader sees it: an Arabic page draws ISO dates and file numbers left
# to right; pages arrive compressed, their static files under hashed, long-cached names.

# Where the first and the last character of an element's text are drawn, left to right.
FIRST_AND_LAST_X = """element => {
    const text = element.firstChild;
    const range = document.createRange();
    range.setStart(text, 0); range.setEnd(text, 1);
    const first = range.getBoundingClientRect().left;
    range.setStart(text, text.length - 1); range.setEnd(text, text.length);
    return [first, range.getBoundingClientRect().left];
}"""


def test_an_arabic_page_draws_dates_and_file_numbers_left_to_right(
    page, examiner_user, five_page_pdf
):
    sign_in(page, "erika")
    page.goto("/dossiers/BG/P/2024/4242")
    page.get_by_label("Language").select_option("ar")
    page.get_by_role("button", name="Switch").click()
    page.wait_for_selector("html[dir='rtl']")
    filing_date = page.locator("time[datetime='2024-01-09']").first
    assert filing_date.inner_text() == "2024-01-09"
    first, last = filing_date.evaluate(FIRST_AND_LAST_X)
    assert first < last, "the date is drawn right to left (09-01-2024 to the eye)"
    file_number = page.locator("bdi", has_text="BG/P/2024/").first
    first, last = file_number.evaluate(FIRST_AND_LAST_X)
    assert first < last, "the file number is drawn right to left"


def test_pages_arrive_compressed_and_static_files_are_cached_for_good(
    page, examiner_user, five_page_pdf
):
    sign_in(page, "erika")
    static = []
    page.on("response", lambda response: "/static/" in response.url and static.append(response))
    response = page.goto("/dossiers/BG/P/2024/4242")
    assert response.status == 200
    assert response.headers.get("content-encoding") == "gzip"
    page.wait_for_load_state("networkidle")
    stylesheets = [r for r in static if r.url.endswith(".css")]
    assert stylesheets, [r.url for r in static]
    for answer in stylesheets:
        # A hashed name (app.043a61786be8.css), cached for good: a new release has new names.
        assert answer.url.rsplit("/", 1)[1].count(".") >= 2, answer.url
        assert "immutable" in answer.headers.get("cache-control", ""), answer.url
