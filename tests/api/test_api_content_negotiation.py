"""Downloads answer in the stored file's own media type whatever `Accept` says: asking for that
type (`application/pdf` for a PDF, `image/png` for a thumbnail), for `*/*`, for a list that
includes it, or even for one that excludes it (a browser's `text/html`) gets the file, never a
406 from DRF's JSON renderers; errors stay problem documents in JSON."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest

from dossier import blobstore
from dossier.models import Blob, Rendition, RenditionKind
from tests.conftest import file_document

THUMBNAIL = Path("/work/shared/corpus/image/73a98cfe_smile.png")

ACCEPTS_FOR_PDF = [
    "application/pdf",
    "*/*",
    "application/json, application/pdf;q=0.9",
    "text/html",  # excludes the file's type: served anyway, in its own type
    "image/png",
]
ACCEPTS_FOR_PNG = ["image/png", "image/*", "*/*", "text/html", "application/pdf"]


def a_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@pytest.fixture
def pdf_document(dossier):
    content = a_pdf()
    document = file_document(dossier, content, filename="claims.pdf")
    assert document.versions.get().media_type == "application/pdf"
    return document, content


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("accept", ACCEPTS_FOR_PDF)
@pytest.mark.parametrize("path", ["content", "versions/1/content"])
def test_pdf_content_whatever_the_accept_header(registry, pdf_document, path, accept):
    document, content = pdf_document
    response = registry.get(f"/api/v1/documents/{document.id}/{path}", HTTP_ACCEPT=accept)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    assert body(response) == content


@pytest.mark.parametrize("accept", ACCEPTS_FOR_PNG)
def test_thumbnail_whatever_the_accept_header(registry, pdf_document, accept):
    document, _ = pdf_document
    png = THUMBNAIL.read_bytes()
    staged = blobstore.spool([png], filename="page-1.png")
    blobstore.promote(staged)
    staged.discard()
    blob = Blob.objects.create(sha256=staged.sha256, size=staged.size, media_type="image/png")
    Rendition.objects.create(
        version=document.versions.get(),
        kind=RenditionKind.THUMBNAIL,
        blob=blob,
        media_type="image/png",
    )
    response = registry.get(
        f"/api/v1/documents/{document.id}/versions/1/renditions/thumbnail", HTTP_ACCEPT=accept
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "image/png"
    assert body(response) == png


@pytest.mark.parametrize("accept", ["application/pdf", "image/png", "text/html"])
def test_errors_are_problems_in_json_whatever_the_accept_header(registry, pdf_document, accept):
    document, _ = pdf_document
    unknown_version = registry.get(
        f"/api/v1/documents/{document.id}/versions/7/content", HTTP_ACCEPT=accept
    )
    assert unknown_version.status_code == 404
    assert unknown_version["Content-Type"] == "application/problem+json"
    assert unknown_version.json()["type"] == "/api/v1/problems/unknown-version"
    no_rendition = registry.get(
        f"/api/v1/documents/{document.id}/versions/1/renditions/pdfa", HTTP_ACCEPT=accept
    )
    assert no_rendition.status_code == 404
    assert no_rendition["Content-Type"] == "application/problem+json"
    assert no_rendition.json()["type"] == "/api/v1/problems/unknown-rendition"
