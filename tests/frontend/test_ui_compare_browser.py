"""Compare in a real browser (Debian's Chromium, `tests/browser_support.py`): the claims diff
opened from the viewer's version list, a word of claim 2 struck out on the left and inserted
on the right of its page; a version with a page inserted shows that page alone as new, in the
text and in the visual page compare; two documents ticked in the file wrapper compared, an
Arabic text's columns running right to left."""

from __future__ import annotations

import datetime as dt
import io
import re

import pikepdf
import pytest

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.roles import Role
from tests.browser_support import PASSWORD, sign_in
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.redaction_support import text_pdf
from tests.search_support import give_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CLAIM_2 = "2. The escapement of claim 1, wherein the wheel is of {}."
PAGES = [
    "Claims",
    "1. An escapement comprising a pallet.\n" + CLAIM_2 + "\n3. A clock with it.",
]


def claims_text(material: str) -> str:
    return "\f".join(PAGES).format(material)


@pytest.fixture(autouse=True)
def pages_answered_before_teardown(page):
    """The compare page draws both PDFs' pages in the background: the live server answers those
    requests before the test's database goes away (else a request finishing after it fails the
    teardown)."""
    yield
    page.wait_for_load_state("networkidle")


@pytest.fixture
def examiner(transactional_db):
    return UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)


def test_the_claims_diff_opens_from_the_viewer(page, examiner):
    dossier = create_dossier("BG/P/2024/6161", title="Escapement")
    claims = file_document(
        dossier, text_pdf("Claims as filed"), filename="claims.pdf", title="Claims"
    )
    give_text(claims, claims_text("steel"))
    amended = blobstore.spool([text_pdf("Amended claims")], filename="claims-amended.pdf")
    actions.add_version(claims, amended, actor=Actor(label="tests"))
    claims.refresh_from_db()
    give_text(claims, claims_text("silicon"))

    sign_in(page, "erika")
    page.goto(f"/documents/{claims.id}")
    page.get_by_role("link", name="Compare with previous version").click()
    page.wait_for_url(f"**/documents/{claims.id}/compare?a=1&b=2")
    summary = page.locator("#compare-summary")
    assert "1 page differs" in summary.inner_text()
    summary.get_by_role("link", name="2").click()
    changed = page.locator("#page-2")
    assert changed.get_by_role("heading").inner_text().startswith("Page 2")
    assert page.locator("#page-1").count() == 0  # unchanged: not shown
    deleted = changed.locator(".diff-left del")
    inserted = changed.locator(".diff-right ins")
    assert deleted.all_inner_texts() == ["steel."]
    assert inserted.all_inner_texts() == ["silicon."]
    # Side by side: the new text to the right of the old, the claim's line breaks kept.
    left_box = changed.locator(".diff-left").bounding_box()
    right_box = changed.locator(".diff-right").bounding_box()
    assert right_box["x"] >= left_box["x"] + left_box["width"]
    assert changed.locator(".diff-right").inner_text().splitlines()[1] == CLAIM_2.format("silicon")
    # Both versions' pages drawn by pdf.js side by side, with where they differ.
    pages = page.locator('#compare-pages[data-shown-page="1"]')
    pages.wait_for()
    assert int(pages.get_attribute("data-differing-pixels")) > 0
    assert page.locator("#compare-page-state").inner_text() == "1 / 1"
    # The version pickers name what is compared, and pick another pair.
    assert page.get_by_label("Version").first.input_value() == "1"
    assert page.get_by_label("Version").last.input_value() == "2"
    page.get_by_label("Version").first.select_option("2")
    page.get_by_role("button", name="Compare", exact=True).click()
    page.wait_for_url(re.compile(r"/compare\?a=2&b=2$"), wait_until="domcontentloaded")
    assert "The texts are the same." in page.locator("#compare-summary").inner_text()
    pages.wait_for()
    assert pages.get_attribute("data-differing-pixels") == "0"


def pages_pdf(pages: list[str]) -> bytes:
    """A PDF with one page per text (each drawn by `text_pdf`, a line per text line)."""
    merged = pikepdf.new()
    for text in pages:
        merged.pages.extend(pikepdf.open(io.BytesIO(text_pdf(*text.splitlines()))).pages)
    out = io.BytesIO()
    merged.save(out)
    return out.getvalue()


def test_an_inserted_page_shows_alone_as_new(page, examiner):
    before = [
        "Claims",
        "1. An escapement comprising a pallet.\n" + CLAIM_2.format("steel"),
        "Description of the drawings: figure 1 shows the escapement from above.",
    ]
    inserted = "1a. The escapement of claim 1 with a balance spring of silicon."
    after = [before[0], inserted, *before[1:]]
    dossier = create_dossier("BG/P/2024/6363", title="Escapement")
    claims = file_document(dossier, pages_pdf(before), filename="claims.pdf", title="Claims")
    give_text(claims, "\f".join(before))
    amended = blobstore.spool([pages_pdf(after)], filename="claims-amended.pdf")
    actions.add_version(claims, amended, actor=Actor(label="tests"))
    claims.refresh_from_db()
    give_text(claims, "\f".join(after))

    sign_in(page, "erika")
    page.goto(f"/documents/{claims.id}/compare?a=1&b=2")
    # The text: only the new page 2 differs, all of it inserted; pages 3 and 4 are old pages
    # 2 and 3, unchanged, so not shown.
    summary = page.locator("#compare-summary")
    assert summary.inner_text().split(":")[0] == "1 page differs"
    assert summary.get_by_role("link").all_inner_texts() == ["2"]
    new_page = page.locator("#page-2")
    assert new_page.get_by_role("heading").inner_text().startswith("Page 2 is new")
    assert new_page.locator(".diff-left del").count() == 0
    assert new_page.locator(".diff-right ins").all_inner_texts() == [inserted]
    assert page.locator(".diff-page").count() == 1
    # The pages drawn side by side are paired the same way: step 2 is the new page alone,
    # step 3 old page 2 against new page 3, which agree pixel for pixel.
    pages = page.locator("#compare-pages")
    page.locator('#compare-pages[data-shown-page="1"]').wait_for()
    assert pages.get_attribute("data-paired-by") == "text"
    assert page.locator("#compare-page-state").inner_text() == "1 / 4"
    page.get_by_role("button", name="Next page").click()
    page.locator('#compare-pages[data-shown-page="2"]').wait_for()
    assert pages.get_attribute("data-left-page") == ""
    assert pages.get_attribute("data-right-page") == "2"
    page.get_by_role("button", name="Next page").click()
    page.locator('#compare-pages[data-shown-page="3"]').wait_for()
    assert (pages.get_attribute("data-left-page"), pages.get_attribute("data-right-page")) == (
        "2",
        "3",
    )
    assert page.locator("#compare-left-number").inner_text() == "2"
    assert page.locator("#compare-right-number").inner_text() == "3"
    assert pages.get_attribute("data-differing-pixels") == "0"


def test_two_ticked_documents_are_compared_right_to_left(page, examiner):
    dossier = create_dossier("BG/P/2024/6262", title="Escapement")
    letters = []
    for title, day, word in (("First letter", 1, "الأولى"), ("Second letter", 9, "الثانية")):
        letter = file_document(
            dossier,
            text_pdf(title),
            filename=f"{day}.pdf",
            title=title,
            official_date=dt.date(2024, 3, day),
        )
        give_text(letter, f"هذه هي الرسالة {word} بشأن الطلب")
        letters.append(letter)
    sign_in(page, "erika")
    page.goto("/dossiers/BG/P/2024/6262")
    page.get_by_label("Select Second letter").check()
    page.get_by_label("Select First letter").check()
    page.get_by_role("button", name="Compare the two selected").click()
    page.wait_for_url(f"**/documents/{letters[0].id}/compare?other={letters[1].id}")
    left = page.locator("#page-1 .diff-left")
    right = page.locator("#page-1 .diff-right")
    assert left.locator("del").all_inner_texts() == ["الأولى"]
    assert right.locator("ins").all_inner_texts() == ["الثانية"]
    for column in (left, right):
        assert column.evaluate("(element) => getComputedStyle(element).direction") == "rtl"
    assert "First letter" in page.locator("#compare-a").inner_text()
    assert "Second letter" in page.locator("#compare-b").inner_text()
