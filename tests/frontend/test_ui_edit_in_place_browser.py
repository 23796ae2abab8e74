"""Edit in place in a real browser (Debian's Chromium, `tests/browser_support.py`), issue 16
point 4: a row's type and title changed in its dialog, a file dropped on a row becoming the
document's next version, and an upload with a title joining the file wrapper — each without a
reload of the page (a marker set on `window` before survives)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from dossier.models import AuditEvent, Document, Version
from dossier.roles import Role
from tests.browser_support import PASSWORD, sign_in
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

AMENDED = "1. A widget with a curved handle."


@pytest.fixture
def examiner(transactional_db):
    return UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)


@pytest.fixture
def claims(transactional_db):
    dossier = create_dossier("BG/P/2024/6161", title="Widget")
    return file_document(
        dossier,
        b"1. A widget with a handle.",
        type_code="CLM",
        filename="claims.txt",
        title="Claims",
        official_date=dt.date(2024, 3, 1),
    )


def open_dossier(page) -> None:
    sign_in(page, "erika")
    page.goto("/dossiers/BG/P/2024/6161")
    page.evaluate("() => { window.notReloaded = true; }")


def not_reloaded(page) -> bool:
    return page.evaluate("() => window.notReloaded === true")


def test_a_rows_type_and_title_are_changed_in_place(page, examiner, claims):
    open_dossier(page)
    row = page.locator(f'#wrapper tr[data-document="{claims.id}"]')
    row.get_by_role("button", name="Edit Claims").click()
    dialog = page.get_by_role("dialog")
    assert dialog.is_visible()
    assert dialog.get_by_label("Title").input_value() == "Claims"
    assert dialog.get_by_label("Official date").input_value() == "2024-03-01"
    dialog.get_by_label("Type").select_option("RESP")
    dialog.get_by_label("Title").fill("Reply to the first office action")
    dialog.get_by_role("button", name="Save the changes").click()
    page.get_by_role("link", name="Reply to the first office action").wait_for()
    assert dialog.is_hidden()
    row = page.locator(f'#wrapper tr[data-document="{claims.id}"]')
    assert row.locator("abbr").inner_text() == "RESP"
    assert page.locator("#wrapper-status").inner_text() == "Document changed."
    # Focus is back on the row's edit button, drawn anew.
    assert row.get_by_role("button").evaluate("(b) => b === document.activeElement")
    assert not_reloaded(page)
    claims.refresh_from_db()
    assert (claims.doc_type_id, claims.title) == ("RESP", "Reply to the first office action")
    assert AuditEvent.objects.filter(object_id=str(claims.id), action="document.update").exists()
    # A refusal says why in the dialog and changes nothing.
    row.get_by_role("button").click()
    dialog.get_by_label("Official date").evaluate(
        "(input) => { input.type = 'text'; input.value = 'tomorrow'; }"
    )
    dialog.get_by_role("button", name="Save the changes").click()
    alert = dialog.get_by_role("alert")
    alert.wait_for()
    assert "Not a date: tomorrow" in alert.inner_text()
    claims.refresh_from_db()
    assert claims.official_date == dt.date(2024, 3, 1)


def test_a_file_dropped_on_a_row_becomes_its_next_version(page, examiner, claims):
    open_dossier(page)
    row = page.locator(f'#wrapper tr[data-document="{claims.id}"]')
    assert row.locator(".version").count() == 0
    files = page.evaluate_handle(
        """(text) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], "claims-amended.txt", { type: "text/plain" }));
            return transfer;
        }""",
        AMENDED,
    )
    row.dispatch_event("dragover", {"dataTransfer": files})
    assert "drop-target" in (row.get_attribute("class") or "")
    row.dispatch_event("drop", {"dataTransfer": files})
    page.locator(f'#wrapper tr[data-document="{claims.id}"] .version').wait_for()
    row = page.locator(f'#wrapper tr[data-document="{claims.id}"]')
    assert row.locator(".version").inner_text() == "v2"
    assert page.locator("#wrapper-status").inner_text() == "Version 2 added."
    assert not_reloaded(page)
    latest = Version.objects.get(document=claims, number=2)
    assert latest.blob_id == hashlib.sha256(AMENDED.encode()).hexdigest()
    assert latest.filename == "claims-amended.txt"


def test_an_upload_with_a_title_joins_the_file_wrapper_without_a_reload(
    page, examiner, claims, tmp_path
):
    letter = tmp_path / "letter.txt"
    letter.write_text("We amend the claims as follows.")
    open_dossier(page)
    assert page.locator("#wrapper tbody tr[data-document]").count() == 1
    page.locator("#file-input").set_input_files([str(letter)])
    upload = page.locator("#uploads li").nth(0)
    # The official date defaults to today.
    assert upload.locator("input.date").input_value() == timezone.localdate().isoformat()
    upload.locator("select.type").select_option("RESP")
    upload.get_by_role("textbox", name="Title").fill("Reply with amended claims")
    page.get_by_role("button", name="Upload").click()
    page.locator("#wrapper").get_by_role("link", name="Reply with amended claims").wait_for()
    assert page.locator("#wrapper tbody tr[data-document]").count() == 2
    assert not_reloaded(page)
    filed = Document.objects.get(title="Reply with amended claims")
    assert filed.doc_type_id == "RESP"
    assert filed.official_date == timezone.localdate()
    # The new row is one of the table's rows: the arrow keys reach it.
    first_box = page.locator("#wrapper tbody tr[data-document]").nth(0).locator("input")
    first_box.focus()
    page.keyboard.press("End")
    new_box = page.locator(f'#wrapper tr[data-document="{filed.id}"] input')
    assert new_box.evaluate("(element) => element === document.activeElement")
