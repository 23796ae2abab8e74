"""Saved searches and watched dossiers in a real browser (Debian's Chromium, Playwright, a live
server): save a search from the search page, be told of a new matching document by the badge
and the notifications page, open it; watch a dossier with its button."""

from __future__ import annotations

import re

import pytest

from dossier.roles import Role
from search import indexer
from tests.browser_support import PASSWORD, sign_in
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.search_support import give_text
from watch.models import DossierWatch, SavedSearch

# Serialized rollback restores the migrations' rows (groups, document types) after each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def examiner_user(transactional_db):
    return UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)


def test_save_a_search_from_the_search_page_and_be_told_of_a_new_match(
    page, examiner_user, search_backend
):
    dossier = create_dossier("BG/P/2024/41", title="Chain drive")
    sign_in(page, "erika")
    page.goto("/search")
    page.get_by_label("Query").fill("sprocket")
    page.get_by_role("button", name="Search", exact=True).last.click()
    page.get_by_label("Save this search as").fill("Sprockets")
    page.get_by_role("button", name="Save search", exact=True).click()
    page.wait_for_selector(".messages >> text=Search saved as “Sprockets”")
    assert SavedSearch.objects.get(owner=examiner_user).params == "q=sprocket"
    assert page.locator("#nav-notifications .badge").count() == 0

    document = file_document(dossier, title="Amended claims")
    give_text(document, "The sprocket engages the chain.")
    indexer.sync()  # the index consumer: the document becomes searchable, the search is run

    page.reload()
    assert page.locator("#nav-notifications .badge").inner_text() == "1"
    page.locator("#nav-notifications").click()
    item = page.locator(".notification.unread").first
    assert "matches your saved search “Sprockets”" in item.inner_text()
    item.get_by_role("button", name=re.compile("matches your saved search")).click()
    page.wait_for_url(re.compile(rf"/documents/{document.id}$"))
    page.goto("/notifications")
    assert page.locator(".notification.unread").count() == 0
    assert page.locator("#nav-notifications .badge").count() == 0


def test_watch_a_dossier_with_its_button(page, examiner_user):
    dossier = create_dossier("BG/P/2024/42", title="Gearbox")
    sign_in(page, "erika")
    page.goto("/dossiers/BG/P/2024/000042")
    page.get_by_role("button", name="Watch this dossier").click()
    page.wait_for_selector("#watch-button[aria-pressed='true']")
    assert DossierWatch.objects.filter(owner=examiner_user, dossier=dossier).exists()
    page.goto("/notifications")
    assert "BG/P/2024/000042" in page.locator(".watched-dossiers").inner_text()
    page.locator(".watched-dossiers").get_by_role("button", name="Stop watching").click()
    page.wait_for_url(re.compile(r"/notifications$"))
    assert not DossierWatch.objects.exists()
