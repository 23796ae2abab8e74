"""Comparing versions and documents (`/documents/<id>/compare`): a word replaced in an amended
claim shows as deleted and inserted on its page; the reader must be allowed to read both sides;
the public, reading a document through its redacted copy, compares the redacted texts only."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import time

import pytest
from django.test import Client
from PIL import Image

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import AuditEvent, RenditionKind
from dossier.roles import Role
from frontend import compare
from ingest.renditions import save_rendition
from tests.conftest import create_dossier, file_document, make_user
from tests.redaction_support import text_pdf
from tests.search_support import give_text

pytestmark = pytest.mark.django_db

TESTS = Actor(label="tests")
CLAIMS_V1 = (
    "Description of the escapement\f"
    "1. An escapement comprising a pallet.\n"
    "2. The escapement of claim 1, wherein the wheel is of steel.\n"
    "3. A clock with the escapement of claim 1."
)
CLAIMS_V2 = CLAIMS_V1.replace("wheel is of steel", "wheel is of silicon")


def staff() -> Client:
    client = Client()
    client.force_login(make_user("erika", Role.EXAMINER))
    return client


def amended_claims():
    """A claims document whose second version replaces one word of claim 2 (on page 2)."""
    dossier = create_dossier("BG/P/2024/000321", title="Escapement")
    document = file_document(dossier, b"claims v1", filename="claims.txt", title="Claims")
    give_text(document, CLAIMS_V1)
    actions.add_version(document, blobstore.spool([b"claims v2"], filename="c.txt"), actor=TESTS)
    document.refresh_from_db()
    give_text(document, CLAIMS_V2)
    return document


def test_a_word_replaced_in_claim_2_shows_as_deleted_and_inserted_on_its_page():
    document = amended_claims()
    client = staff()
    viewer = client.get(f"/documents/{document.id}").content.decode()
    link = f"/documents/{document.id}/compare?a=1&amp;b=2"
    assert link in viewer  # "Compare with previous version" on version 2 only
    assert viewer.count("Compare with previous version") == 1

    page = client.get(link.replace("&amp;", "&"))
    assert page.status_code == 200
    html = page.content.decode()
    # Only page 2 changed: page 1 is not shown, page 2 is, with the one word marked.
    assert 'id="page-2"' in html and 'id="page-1"' not in html
    section = html.split('id="page-2"', 1)[1]
    assert re.search(r'class="diff-side diff-left" dir="auto">.*<del>steel\.</del>', section, re.S)
    assert re.search(
        r'class="diff-side diff-right" dir="auto">.*<ins>silicon\.</ins>', section, re.S
    )
    assert section.count("<del>") == 1 and section.count("<ins>") == 1
    assert "1 word deleted" in section and "1 word inserted" in section
    # Reading both texts is audited, as reading them through the API is.
    reads = AuditEvent.objects.filter(action="document.download", object_id=str(document.id))
    assert sorted((e.detail["version"], e.detail["rendition"]) for e in reads) == [
        (1, "text"),
        (2, "text"),
    ]
    # Without a query: the newest version against the one before it.
    assert client.get(f"/documents/{document.id}/compare").content.decode().count("<ins>") == 1


def test_the_diff_splits_pages_and_caps_the_work():
    diff = compare.diff_texts("same\fold words here", "same\fnew words here\fadded page")
    assert diff.changed_pages == [2, 3]
    assert [(p.deleted, p.inserted) for p in diff.pages] == [(0, 0), (1, 1), (0, 2)]
    huge = " ".join(["word"] * (compare.MAX_PAGE_WORDS + 1))
    capped = compare.diff_texts(huge, huge + " more")
    assert capped.pages[0].too_large and capped.changed_pages == [1]
    many = "\f".join(["page"] * (compare.MAX_PAGES + 5))
    assert compare.diff_texts(many, many).pages_left_out == 5


def book_pages(count: int, seed: int = 16) -> list[str]:
    """`count` pages of 300 words drawn as prose draws them (a few words very often, most
    rarely: Zipf), with a running header bearing the page number."""
    rng = random.Random(seed)
    vocabulary = [f"w{rank}" for rank in range(1, 5001)]
    weights = [1 / rank for rank in range(1, 5001)]
    return [
        f"Free culture, page {number}\n" + " ".join(rng.choices(vocabulary, weights, k=300))
        for number in range(1, count + 1)
    ]


def test_pages_are_paired_by_content_inserted_removed_and_moved():
    pages = book_pages(8)
    amended = pages[4].replace("w1 ", "w4999 ", 1)
    # A new page 2, old page 4 removed, old page 5 amended, old pages 7 and 8 swapped.
    new = [pages[0], "1. A new claim.", pages[1], pages[2], amended, pages[5], pages[7], pages[6]]
    diff = compare.diff_texts("\f".join(pages), "\f".join(new))
    rows = [(p.old_number, p.new_number, p.moved) for p in diff.pages]
    assert rows == [
        (1, 1, False),
        (None, 2, False),
        (2, 3, False),
        (3, 4, False),
        (4, None, False),
        (5, 5, False),
        (6, 6, False),
        (8, 7, True),
        (7, 8, False),
    ]
    changed = {(p.old_number, p.new_number): p for p in diff.changes}
    # Renumbered but unchanged pages are not changes; the new and removed pages are, whole;
    # of the two swapped, one is shown as moved (the other then stays in order).
    assert set(changed) == {(None, 2), (4, None), (5, 5), (8, 7)}
    assert (changed[None, 2].deleted, changed[None, 2].inserted) == (0, 4)
    assert changed[4, None].deleted == 304 and changed[4, None].inserted == 0
    assert (changed[5, 5].deleted, changed[5, 5].inserted) == (1, 1)
    assert (changed[8, 7].deleted, changed[8, 7].inserted) == (0, 0)
    assert diff.changed_pages == [2, 4, 5, 7]  # a removed page by its old number
    assert diff.pairing[:2] == [[1, 1], [None, 2]]
    # A text without page breaks against itself: one page, the same.
    assert compare.diff_texts("one page", "one page").changes == []


def test_pages_without_text_pair_by_number():
    """An image-only scan's text is only page breaks: its pages pair in order."""
    diff = compare.diff_texts("\f\f\f", "\f\f\f\f")
    assert diff.pairing == [[1, 1], [2, 2], [3, 3], [None, 4]]


def test_pairing_the_pages_of_a_352_page_book_takes_well_under_a_second():
    pages = book_pages(352)
    # A page inserted after page 10, so every later page's header number changes too.
    new = [*pages[:10], "An inserted page"]
    new += [
        page.replace(f"page {n}\n", f"page {n + 1}\n", 1) for n, page in enumerate(pages[10:], 11)
    ]
    # CPU time: on a shared test machine the wall clock measures the neighbours too.
    started = time.process_time()
    diff = compare.diff_texts("\f".join(pages), "\f".join(new))
    elapsed = time.process_time() - started
    assert [p.number for p in diff.changes if p.is_new] == [11]
    assert not any(p.removed for p in diff.pages)
    assert len(diff.changes) == 1 + 342  # the new page, and each later page's number
    assert all((p.deleted, p.inserted) == (1, 1) for p in diff.changes[1:])
    assert elapsed < 1.0, elapsed


def test_two_selected_documents_are_compared_older_on_the_left():
    dossier = create_dossier("BG/P/2024/000322", title="Escapement")
    old = file_document(
        dossier, b"a", filename="a.txt", title="Claims as filed", official_date=dt.date(2024, 1, 1)
    )
    new = file_document(
        dossier, b"b", filename="b.txt", title="Amended claims", official_date=dt.date(2024, 6, 1)
    )
    give_text(old, "1. A pallet of steel.")
    give_text(new, "1. A pallet of silicon.")
    client = staff()
    answer = client.post(
        "/dossiers/BG/P/2024/000322/compare", {"document": [str(new.id), str(old.id)]}
    )
    assert answer.status_code == 302
    assert answer["Location"] == f"/documents/{old.id}/compare?other={new.id}"
    html = client.get(answer["Location"]).content.decode()
    assert "<del>steel.</del>" in html and "<ins>silicon.</ins>" in html
    one = client.post("/dossiers/BG/P/2024/000322/compare", {"document": [str(old.id)]})
    assert one.status_code == 302 and one["Location"] == "/dossiers/BG/P/2024/000322"


def published_dossier():
    dossier = create_dossier("BG/P/2024/000323", title="Widget")
    actions.record_case_event(dossier, kind="publication", date=dt.date(2024, 1, 1), actor=TESTS)
    return dossier


def test_the_reader_must_be_allowed_to_read_both():
    dossier = published_dossier()
    public_doc = file_document(dossier, b"p", filename="p.txt", visibility="public")
    internal = file_document(
        dossier, b"i", filename="i.txt", title="Internal note", visibility="internal"
    )
    give_text(public_doc, "A widget with a handle.")
    give_text(internal, "A widget with a secret handle.")
    public = Client()
    assert public.get(f"/documents/{internal.id}/compare?other={public_doc.id}").status_code == 404
    assert public.get(f"/documents/{public_doc.id}/compare?other={internal.id}").status_code == 404
    assert public.get(f"/documents/{public_doc.id}/compare?other=not-a-uuid").status_code == 404
    # Nothing of the hidden one was read on its behalf.
    assert not AuditEvent.objects.filter(action="document.download").exists()
    # A hidden one ticked in a forged form is not compared either.
    forged = public.post(
        "/dossiers/BG/P/2024/000323/compare", {"document": [str(public_doc.id), str(internal.id)]}
    )
    assert forged["Location"] == "/dossiers/BG/P/2024/000323"
    # A version the document does not have.
    assert public.get(f"/documents/{public_doc.id}/compare?a=9").status_code == 404
    assert staff().get(f"/documents/{public_doc.id}/compare?other={internal.id}").status_code == 200


def test_the_public_compares_the_redacted_texts_only(tmp_path):
    dossier = published_dossier()
    documents = []
    for name, line in (("one", "A widget"), ("two", "A widget with a handle")):
        original = text_pdf(f"Applicant Zanzibarov, {name}", line)
        document = file_document(dossier, original, filename=f"{name}.pdf", visibility="public")
        give_text(document, f"Applicant Zanzibarov, {name}\n{line}")
        copy = text_pdf(f"Applicant [redacted] {name}", line)
        staged = blobstore.spool([copy], filename=f"{name}.redacted.pdf")
        actions.store_redacted_copy(document.versions.get(number=1), staged, actor=TESTS)
        png = tmp_path / f"{name}.png"
        Image.new("RGB", (40, 50), "white").save(png)
        save_rendition(
            document.versions.get(number=1), RenditionKind.THUMBNAIL, str(png), "image/png", "t.png"
        )
        documents.append(document)
    one, two = documents
    url = f"/documents/{one.id}/compare?other={two.id}"
    html = Client().get(url).content.decode()
    assert "[redacted]" in html and "<ins>with a handle</ins>" in html
    assert "Zanzibarov" not in html
    # No image of the original's pages for the public, nor a difference made from it: the
    # pages drawn are the redacted copies'.
    assert "difference.png" not in html
    for document in (one, two):
        redacted = f"/api/v1/documents/{document.id}/versions/1/renditions/redacted"
        assert f'="{redacted}"' in html
        assert f"/api/v1/documents/{document.id}/versions/1/content" not in html
    difference = f"/documents/{one.id}/compare/difference.png?other={two.id}"
    assert Client().get(difference).status_code == 404
    read = {e.detail["rendition"] for e in AuditEvent.objects.filter(action="document.download")}
    assert read == {"redacted_text"}
    client = staff()
    html = client.get(url).content.decode()
    # Staff read the originals' texts and are shown their pages (the original PDFs).
    assert "Zanzibarov" in html
    assert (
        f'data-left-url="/api/v1/documents/{one.id}/versions/1/content?disposition=inline"' in html
    )
    image = client.get(difference)
    assert image.status_code == 200 and image["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    ("language", "heading", "counts"),
    [
        ("fr", "Page 2", "1 mot supprimé"),
        ("ar", "الصفحة 2", "كلمة واحدة محذوفة"),
    ],
)
def test_the_compare_page_speaks_the_readers_language(language, heading, counts):
    document = amended_claims()
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(make_user("erika", Role.EXAMINER))
    html = client.get(f"/documents/{document.id}/compare").content.decode()
    assert heading in html and counts in html


@pytest.mark.parametrize(
    ("language", "new_page", "summary", "renumbered"),
    [
        ("en", "Page 2 is new", "2 pages differ", "Page 3 (old page 2)"),
        ("fr", "La page 2 est nouvelle", "2 pages diffèrent", "Page 3 (ancienne page 2)"),
    ],
)
def test_an_inserted_page_is_named_as_new_in_the_readers_language(
    language, new_page, summary, renumbered
):
    document = amended_claims()
    pages = CLAIMS_V2.split("\f")
    give_text(document, "\f".join([pages[0], "1a. A new claim.", pages[1]]))
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(make_user("erika", Role.EXAMINER))
    html = client.get(f"/documents/{document.id}/compare").content.decode()
    assert new_page in html and summary in html and renumbered in html
    # Old page 2 is new page 3, with claim 2's one word changed.
    section = html.split('id="page-3"', 1)[1]
    assert "<del>steel.</del>" in section and "<ins>silicon.</ins>" in section
    assert 'id="page-1"' not in html and "old-page-" not in html


def test_two_images_without_a_pdf_are_compared_by_their_first_pages(tmp_path):
    dossier = create_dossier("BG/P/2024/000324", title="Drawing")
    documents = []
    for name, mark in (("before", None), ("after", (10, 10, 20, 20))):
        png = tmp_path / f"{name}.png"
        image = Image.new("RGB", (40, 50), "white")
        if mark:
            image.paste((0, 0, 0), mark)
        image.save(png)
        document = file_document(dossier, png.read_bytes(), filename=f"{name}.png")
        version = document.versions.get(number=1)
        save_rendition(version, RenditionKind.THUMBNAIL, str(png), "image/png", "t.png")
        documents.append(document)
    before, after = documents
    client = staff()
    html = client.get(f"/documents/{before.id}/compare?other={after.id}").content.decode()
    assert 'id="compare-pages"' not in html  # no PDF to draw pages from
    difference = f"/documents/{before.id}/compare/difference.png?other={after.id}&amp;a=1&amp;b=1"
    assert difference in html
    answer = client.get(difference.replace("&amp;", "&"))
    assert answer.status_code == 200 and answer["Content-Type"] == "image/png"
    drawn = Image.open(io.BytesIO(answer.content)).convert("RGB")
    assert drawn.getpixel((2, 2)) == (255, 255, 255)  # the same on both
    assert drawn.getpixel((15, 15)) == (0, 0, 0)  # white on one, black on the other
