"""The viewer's keyboard shortcuts in a real browser (Chromium: `tests/browser_support.py`)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings

from dossier.roles import Role
from tests.browser_support import PASSWORD, sign_in
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# A born-digital PDF of five pages with a text layer (pdf.js's own test file).
FIVE_PAGES = (
    Path(settings.BASE_DIR).parent / "shared" / "corpus" / "pdf" / "851fb6bf_file_pdfjs_test.pdf"
)


@pytest.fixture
def five_page_document(transactional_db):
    UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)
    dossier = create_dossier("BG/P/2024/4242", title="Escapement for a clock")
    return file_document(
        dossier, FIVE_PAGES.read_bytes(), type_code="DESC", filename="description.pdf"
    )


def _page_width(page) -> float:
    return page.locator("#pdf-viewer .page").first.bounding_box()["width"]


def _wait_until(condition, seconds: float = 10) -> None:
    """Polled from here: the page's CSP forbids the string evaluation `wait_for_function` uses."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the page did not change"
        time.sleep(0.1)


def test_pages_zoom_and_find_from_the_keyboard(page, five_page_document):
    sign_in(page, "erika")
    page.goto(f"/documents/{five_page_document.id}")
    page.wait_for_selector("#viewer-root[data-ready='true']")
    page.focus("#viewer-container")

    page.keyboard.press("n")
    page.wait_for_selector("#viewer-root[data-current-page='2']")
    page.keyboard.press("j")
    page.wait_for_selector("#viewer-root[data-current-page='3']")
    page.keyboard.press("p")
    page.wait_for_selector("#viewer-root[data-current-page='2']")
    assert page.locator("#page-number").input_value() == "2"

    width = _page_width(page)
    page.keyboard.press("+")
    _wait_until(lambda: _page_width(page) > width * 1.2)
    page.keyboard.press("0")  # back to the page's width
    _wait_until(lambda: abs(_page_width(page) - width) < 2)

    # "/" goes to the find box; a letter typed there is the query's, not a shortcut.
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "find"
    page.keyboard.type("pnj")
    assert page.locator("#find").input_value() == "pnj"
    assert page.locator("#viewer-root").get_attribute("data-current-page") == "2"
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") == "viewer-container"

    # "?" opens the help that lists them.
    help_box = page.locator("#viewer-help")
    assert not help_box.evaluate("element => element.open")
    page.keyboard.press("?")
    assert help_box.evaluate("element => element.open")
    assert "Next page" in help_box.inner_text()


def test_an_arabic_page_shows_a_version_date_before_its_time(page, five_page_document):
    """Right to left, "2024-01-09 14:30" used to read "14:30 2024-01-09": the date is isolated."""
    sign_in(page, "erika")
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "ar", "url": page.url}]
    )
    page.goto(f"/documents/{five_page_document.id}")
    assert page.locator("html").get_attribute("dir") == "rtl"
    stamp = page.locator(".versions time").first
    text = stamp.inner_text()
    assert len(text) == len("2024-01-09 14:30")
    # Where the year and the hour are drawn: left to right, the year first.
    year_x, hour_x = stamp.evaluate(
        """element => {
            const text = element.firstChild;
            const at = (start, end) => {
                const range = document.createRange();
                range.setStart(text, start);
                range.setEnd(text, end);
                return range.getBoundingClientRect().left;
            };
            return [at(0, 4), at(11, 16)];
        }"""
    )
    assert year_x < hour_x
