"""Extracted text keeps its pages: a form feed between pages, whichever reader read the PDF,
so a search hit knows its page (tests/search/ and the browser test follow the hit there)."""

from __future__ import annotations

import pytest

from api.models import ApiKey
from dossier import blobstore
from dossier.roles import Role
from ingest import pipeline, readers
from ingest.extractors import embedded
from ingest.models import Processing
from ingest.pages import text_of_xhtml
from search import indexer
from tests.conftest import client_for_key
from tests.factories import UserFactory
from tests.ingest_support import corpus_file, file_version
from tests.pages_support import THREE_PAGES, paged_pdf


@pytest.fixture
def three_pages(tmp_path):
    path = tmp_path / "three.pdf"
    path.write_bytes(paged_pdf(*THREE_PAGES))
    return path


def test_the_embedded_extractor_separates_pdf_pages_with_form_feeds(three_pages):
    found = embedded.Extractor().extract(str(three_pages), max_chars=10_000)

    pages = found.text.split("\f")
    assert len(pages) == 3
    for page, line in zip(pages, THREE_PAGES, strict=True):
        assert page.strip() == line
    assert not found.truncated


def test_the_pdfium_reader_separates_pages_the_same_way(three_pages, tmp_path):
    text_path = tmp_path / "out" / "text.txt"
    text_path.parent.mkdir()
    found = readers.read(
        reader="pdfium", path=str(three_pages), text_path=str(text_path), max_chars=10_000
    )

    assert found["pages"] == 3
    pages = text_path.read_text().split("\f")
    assert [page.strip() for page in pages] == list(THREE_PAGES)


def test_a_word_document_is_one_page():
    found = embedded.Extractor().extract(
        str(corpus_file("67797f56_testWORD.docx").path), max_chars=10_000
    )
    assert "Sample Word Document" in found.text and "\f" not in found.text


def test_only_the_documents_own_pages_count():
    # An attached PDF's pages are inside the attachment's <div>: they are not the document's.
    xhtml = (
        "<html><head><title>t</title></head><body>"
        '<div class="page"><p>one &amp; only</p></div>\n'
        '<div class="page"><p>two\fstill two</p>'
        '<div class="embedded"><div class="page"><p>attached</p></div></div></div>\n'
        '<div class="page"><p>three &lt;3&gt;</p></div>'
        "</body></html>"
    )
    text = text_of_xhtml(xhtml)

    assert text.split("\f") == ["one & only\n", "two\nstill twoattached\n", "three <3>"]
    assert "t" not in text.split("\f")[0].split("one")[0]  # the <title> is not text


def test_a_hit_on_page_two_says_page_two(dossier, search_backend):
    version = file_version(dossier, paged_pdf(*THREE_PAGES), "description.pdf")
    pipeline.process_version(version.id)
    processing = Processing.objects.get(version=version)
    stored = b"".join(blobstore.read_chunks(processing.text_id)).decode()
    assert stored.count("\f") == 2
    indexer.sync()
    user = UserFactory(role=Role.EXAMINER)
    _, key = ApiKey.create("pages", Role.EXAMINER, user=user)

    body = client_for_key(key).get("/api/v1/search", {"q": "escapement"}).json()

    assert body["count"] == 1
    hit = body["results"][0]
    assert hit["document"] == str(version.document_id)
    assert hit["pages"] == [2] and "<mark>escapement</mark>" in hit["snippets"][0]
