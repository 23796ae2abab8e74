"""The viewer's "Similar documents" panel in a real browser (Debian's Chromium,
`tests/browser_support.py`): opened, it lists the description of the same patent with the
passage it shares, and never the secret dossier's copy the examiner may not read."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from dossier.roles import Role
from search import indexer
from tests.browser_support import PASSWORD, sign_in
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.search_support import give_text
from tests.similarity.test_similar_api import CLAIM, DESCRIPTION, UNRELATED

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def answered_before_teardown(page):
    """The panel fetches in the background: the live server answers before the database goes."""
    yield
    page.wait_for_load_state("networkidle")


def test_the_panel_lists_similar_documents_the_reader_may_read(
    page, search_backend, settings, tmp_path
):
    settings.EDMS_SIMILARITY_DIR = tmp_path / "similarity"
    UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    patent = create_dossier("BG/P/2023/71", published_at=yesterday, title="Derailleur")
    secret = create_dossier("BG/P/2023/72", published_at=yesterday, secret=True)
    other = create_dossier("BG/P/2023/73", published_at=yesterday, title="Antibody")
    claims = file_document(patent, b"claims", title="Claims")
    description = file_document(patent, b"description", type_code="DESC", title="Description")
    hidden = file_document(secret, b"secret", type_code="DESC", title="Secret description")
    unrelated = file_document(other, b"antibody", type_code="DESC", title="Antibody")
    for document, text in (
        (claims, CLAIM),
        (description, DESCRIPTION),
        (hidden, DESCRIPTION),
        (unrelated, UNRELATED),
    ):
        give_text(document, text, languages=["en"])
    indexer.sync()
    call_command("similarity", "backfill")

    sign_in(page, "erika")
    page.goto(f"/documents/{claims.id}")
    panel = page.locator("#similar-panel")
    panel.get_by_text("Similar documents").click()
    first = panel.locator(".similar-list li").first
    first.wait_for()
    link = first.get_by_role("link")
    assert "BG/P/2023/71" in link.inner_text() and "Description" in link.inner_text()
    assert "derailleur cage" in first.locator("blockquote").inner_text()
    assert "BG/P/2023/72" not in panel.inner_text()
    link.click()
    page.wait_for_url(f"**/documents/{description.id}")
    # The page it opened has answered before the test ends (and its audit rows are checked).
    page.wait_for_load_state("networkidle")
