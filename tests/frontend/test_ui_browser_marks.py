"""The similar-marks page (`/marks/similar`) and the near-duplicates review list (`/duplicates`)
in a real browser (Debian's Chromium, `tests/browser_support.py`).

Marks are filed as documents and processed by the real pipeline (their first-page image, then
`similarity.marks.index_mark` through the duplicate check's task); the query is a generated PNG
of a changed copy, chosen with the file input or dropped on the drop zone. Flags are made by
filing a re-filing of a text, as intake finds them."""

from __future__ import annotations

import io
import random
import re

import pytest
from PIL import Image

from dossier.roles import Role
from similarity.duplicate_models import DuplicateFlag, DuplicateStatus
from tests.bench.marks import logo, variant
from tests.browser_support import PASSWORD, sign_in
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.similarity.conftest import settle  # noqa: F401 (a fixture)
from tests.similarity.test_near_duplicates import filed, prose, refiled

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def sign_in_in(page, username: str) -> None:
    """`sign_in` on a page in another language (its labels are translated)."""
    page.goto("/login")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_password").press("Enter")
    page.wait_for_url(re.compile(r"/$"))


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def as_file(name: str, data: bytes, mime_type: str = "image/png") -> dict:
    return {"name": name, "mimeType": mime_type, "buffer": data}


@pytest.fixture
def marks(settle):  # noqa: F811
    """Three marks: a trademark, a secret trademark (the examiner may not see it), a design."""
    chooser = random.Random(11)
    logos = [logo(chooser) for _ in range(3)]
    dossiers = [
        create_dossier("BG/T/2024/000101", ip_type="trademark", title="Lion rampant"),
        create_dossier("BG/T/2024/000102", ip_type="trademark", secret=True, title="Hidden"),
        create_dossier("BG/D/2024/000103", ip_type="design", title="Teapot"),
    ]
    documents = [
        file_document(
            dossier,
            png(image),
            type_code="DREP" if dossier.ip_type == "design" else "MARK",
            filename="mark.png",
        )
        for dossier, image in zip(dossiers, logos, strict=True)
    ]
    settle()
    return logos, documents


def shown(page) -> list[str]:
    return page.locator("#mark-results .mark-matches li").evaluate_all(
        "items => items.map(item => item.dataset.document)"
    )


def test_an_examiner_finds_a_mark_from_a_changed_copy_and_filters_by_ip_type(page, marks):
    logos, (lion, hidden, teapot) = marks
    UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)
    sign_in(page, "erika")
    page.get_by_role("link", name="Similar marks").click()
    page.wait_for_url("**/marks/similar")

    recoloured = png(variant(logos[0], "recoloured", random.Random(3)))
    page.get_by_label("Drop an image here, or choose one").set_input_files(
        as_file("query.png", recoloured)
    )
    page.get_by_role("button", name="Find similar marks").click()
    page.locator("#mark-results").wait_for()
    assert page.get_by_role("img", name="The image searched for").is_visible()
    found = shown(page)
    assert found[0] == str(lion.id)
    assert str(hidden.id) not in found  # the secret dossier's mark, even when most alike
    first = page.locator(".mark-matches li").first
    assert "BG/T/2024/000101" in first.get_by_role("link").inner_text()
    # The match's first page is shown (lazily loaded: waited for, not sampled).
    thumbnail = first.locator("img")
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function(
        "image => image.complete && image.naturalWidth > 0", arg=thumbnail.element_handle()
    )

    # The secret mark's own image finds the others, never it.
    page.get_by_label("Drop an image here, or choose one").set_input_files(
        as_file("secret.png", png(logos[1]))
    )
    page.get_by_role("button", name="Find similar marks").click()
    page.locator("#mark-results").wait_for()
    assert sorted(shown(page)) == sorted([str(lion.id), str(teapot.id)])

    # Designs only, chosen with the keyboard.
    page.get_by_label("Drop an image here, or choose one").set_input_files(
        as_file("query.png", recoloured)
    )
    page.get_by_label("IP type").select_option(label="Design")
    page.get_by_role("button", name="Find similar marks").focus()
    page.keyboard.press("Enter")
    page.locator("#mark-results").wait_for()
    assert shown(page) == [str(teapot.id)]
    assert page.get_by_label("IP type").input_value() == "design"  # the filter is kept
    page.wait_for_load_state("networkidle")  # the matches' images answered before teardown


def test_an_image_dropped_on_the_drop_zone_is_the_query(page, marks):
    logos, (_lion, hidden, teapot) = marks
    UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)
    sign_in(page, "erika")
    page.goto("/marks/similar")
    cropped = png(variant(logos[2], "cropped", random.Random(5)))
    dropped = page.evaluate_handle(
        """bytes => {
            const transfer = new DataTransfer();
            const file = new File([new Uint8Array(bytes)], "dropped.png", {type: "image/png"});
            transfer.items.add(file);
            return transfer;
        }""",
        list(cropped),
    )
    page.locator("#mark-query .dropzone").dispatch_event("drop", {"dataTransfer": dropped})
    page.locator("#mark-results").wait_for()
    assert shown(page)[0] == str(teapot.id)
    assert str(hidden.id) not in shown(page)
    page.wait_for_load_state("networkidle")


def test_a_bad_file_says_so_clearly(page, marks):
    UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)
    sign_in(page, "erika")
    page.goto("/marks/similar")
    chooser = page.get_by_label("Drop an image here, or choose one")
    cases = (
        (as_file("notes.png", b"not an image, only words\n" * 40), "not an image that can be"),
        (as_file("blank.png", png(Image.new("RGB", (200, 200), "white"))), "The image is blank"),
        (as_file("huge.png", png(Image.new("1", (8000, 6000)))), "too many pixels"),
    )
    for upload, said in cases:
        chooser.set_input_files(upload)
        page.get_by_role("button", name="Find similar marks").click()
        alert = page.get_by_role("alert")
        alert.wait_for()
        assert said in alert.inner_text()
        assert chooser.get_attribute("aria-invalid") == "true"
        assert page.locator("#mark-results").count() == 0


@pytest.fixture
def arabic_page(browser, live_server):
    """A tab whose browser asks for Arabic (`Accept-Language: ar`)."""
    context = browser.new_context(base_url=live_server.url, locale="ar")
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    tab.wait_for_load_state("networkidle")  # the matches' images answered before teardown
    context.close()


def test_in_arabic_the_page_is_right_to_left_with_its_keys_in_order(arabic_page, marks):
    logos, (lion, _hidden, _teapot) = marks
    UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)
    page = arabic_page
    sign_in_in(page, "erika")
    page.goto("/marks/similar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    chooser = page.locator("#mark-image")
    chooser.set_input_files(as_file("notes.png", b"not an image\n" * 40))
    page.locator("#mark-query button[type=submit]").click()
    assert page.get_by_role("alert").inner_text() == "هذا الملف ليس صورة يمكن مقارنتها."
    chooser.set_input_files(as_file("query.png", png(logos[0])))
    page.locator("#mark-query button[type=submit]").click()
    first = page.locator(".mark-matches li").first
    first.wait_for()
    assert first.get_attribute("data-document") == str(lion.id)
    # The file number is a left-to-right island in the right-to-left line.
    assert first.locator("bdi").first.inner_text() == "BG/T/2024/000101"


def test_the_page_messages_are_translated():
    """Each message a person may meet on the page has its French, Spanish and Arabic."""
    from django.utils import translation

    messages = (
        "This file is not an image that can be compared.",
        "The image is blank: there is no figure to compare.",
        "The image has too many pixels to be compared (at most 40 megapixels).",
        "Drop an image here, or choose one",
        "No mark of this IP type that you may see is stored yet.",
        "No flag has this status yet.",
    )
    for language in ("fr", "es", "ar"):
        with translation.override(language):
            for message in messages:
                assert translation.gettext(message) != message, (language, message)


@pytest.fixture
def flags(settle):  # noqa: F811
    """Two texts each filed again in another dossier: two open flags."""
    made = []
    for number, seed in ((201, 31), (203, 32)):
        text = prose(seed)
        filed(f"BG/P/2024/000{number}", text, title=f"Claims {number}")
        settle()
        filed(f"BG/P/2024/000{number + 1}", refiled(text), title=f"Claims {number} again")
        settle()
    made = list(DuplicateFlag.objects.order_by("created_at", "id"))
    assert len(made) == 2
    return made


def test_records_staff_confirm_and_dismiss_flags_from_the_list(page, flags):
    first, second = flags
    UserFactory(username="rita", password=PASSWORD, role=Role.RECORDS_CLERK)
    sign_in(page, "rita")
    page.goto("/duplicates")
    rows = page.locator("#duplicates tbody tr[data-flag]")
    assert rows.count() == 2
    row = page.locator(f'tr[data-flag="{first.id}"]')
    assert "BG/P/2024/000202" in row.locator("td").first.inner_text()
    assert "BG/P/2024/000201" in row.locator("td").nth(1).inner_text()

    confirm = row.get_by_role("button", name="A duplicate", exact=True)
    # Each row's buttons say which document they review (their names repeat on every row).
    described = confirm.get_attribute("aria-describedby")
    assert "BG/P/2024/000202" in page.locator(f"#{described}").inner_text()
    confirm.click()
    page.get_by_text("Review recorded.").wait_for()
    assert page.locator(f'tr[data-flag="{first.id}"]').count() == 0
    assert rows.count() == 1

    # Dismissed with the keyboard.
    page.locator(f'tr[data-flag="{second.id}"]').get_by_role(
        "button", name="Not a duplicate", exact=True
    ).focus()
    page.keyboard.press("Enter")
    page.get_by_text("Review recorded.").wait_for()
    assert page.get_by_text("Nothing to review.").is_visible()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (
        DuplicateStatus.REVIEWED,
        DuplicateStatus.NOT_DUPLICATE,
    )
    assert first.reviewed_by.username == "rita"

    # The reviewed one is under its own status, and can be reopened.
    page.get_by_role("link", name="Reviewed: a duplicate").click()
    reviewed = page.locator(f'tr[data-flag="{first.id}"]')
    assert "Reviewed: a duplicate (rita)" in reviewed.inner_text()
    reviewed.get_by_role("button", name="Reopen", exact=True).click()
    page.get_by_text("Review recorded.").wait_for()  # back on the flags to review
    assert page.locator('[aria-current="page"]').inner_text() == "To review"
    assert page.locator(f'tr[data-flag="{first.id}"]').is_visible()
    page.get_by_role("link", name="Reviewed: a duplicate").click()
    page.get_by_text("No flag has this status yet.").wait_for()


def test_an_examiner_cannot_review_flags(page, flags):
    UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)
    sign_in(page, "erika")
    response = page.goto("/duplicates")
    assert response.status == 403
    assert page.locator("#duplicates").count() == 0
    # Nor by sending the form without the page (with a valid CSRF token: refused for the role).
    [token] = [c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"]
    sent = page.request.post(
        f"/duplicates/{flags[0].id}/review",
        form={"status": "reviewed", "csrfmiddlewaretoken": token},
    )
    assert sent.status == 403 and "CSRF" not in sent.text()
    assert DuplicateFlag.objects.filter(status=DuplicateStatus.OPEN).count() == 2
