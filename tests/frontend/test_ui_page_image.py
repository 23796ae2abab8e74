"""The viewer's first-paint image of a page (issue 16, point 2): rendered in the sandbox from the
PDF the reader is shown, with the document's access rules (the public of a redacted document
sees the redacted copy's page, never the original's; an expunged version has none: 410), cached
by content and served with an ETag, for good when the URL names the content."""

from __future__ import annotations

import datetime as dt
import io
import re

import pikepdf
import pytest
from django.test import Client
from PIL import Image

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import AuditEvent
from dossier.roles import Role
from ingest import page_images
from tests.conftest import create_dossier, file_document, make_user

pytestmark = pytest.mark.django_db

ORDER = {"reason": "papers of another applicant", "reference": "Court order 12/2026"}


def filled_pdf(*greys: int) -> bytes:
    """A PDF of one A4 page per grey level (0 black, 1 white... as 0-255), each filled with it."""
    pdf = pikepdf.new()
    for grey in greys:
        level = f"{grey / 255:.3f}".encode()
        content = pdf.make_stream(level + b" g 0 0 595 842 re f")
        pdf.pages.append(
            pikepdf.Page(pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 595, 842]))
        )
        pdf.pages[-1].obj.Contents = content
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def mean_grey(response) -> float:
    data = b"".join(response.streaming_content)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "WEBP"
        assert image.width == 800  # the default of the offered widths
        assert abs(image.height - round(800 * 842 / 595)) <= 1
        histogram = image.convert("L").histogram()
        return sum(level * count for level, count in enumerate(histogram)) / sum(histogram)


@pytest.fixture(autouse=True)
def cache_in_tmp(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.EDMS_PAGE_IMAGE_MIN_BYTES = 0  # these PDFs are small: an image for them too


@pytest.fixture
def document():
    """A public document of a published dossier: a white page 1, a mid-grey page 2."""
    dossier = create_dossier("BG/P/2024/000123", title="Widget")
    actions.record_case_event(
        dossier, kind="publication", date=dt.date(2024, 1, 1), actor=Actor(label="tests")
    )
    return file_document(dossier, filled_pdf(255, 128), filename="request.pdf", visibility="public")


def staff() -> Client:
    client = Client()
    client.force_login(make_user("erika", Role.EXAMINER))
    return client


def image_src(client: Client, document, page: int = 1) -> str:
    """The `src` of the viewer's first-paint image, as `client` is shown the viewer."""
    html = client.get(f"/documents/{document.id}?page={page}").content.decode()
    found = re.search(r'id="first-paint"><img src="([^"]+)"', html)
    assert found, html
    return found[1].replace("&amp;", "&")


def test_the_viewer_opens_on_the_image_of_its_page_served_from_the_cache(document):
    client = staff()
    src = image_src(client, document, page=2)
    assert f"/documents/{document.id}/versions/1/pages/2.webp?v=" in src
    response = client.get(src)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert 120 <= mean_grey(response) <= 136  # page 2, mid-grey
    reads = AuditEvent.objects.filter(action="document.download", detail__rendition="page-image")
    assert reads.count() == 1
    # Kept by content: the second request is the file rendered by the first.
    sha256 = document.versions.get().blob_id
    cached = page_images.cache_dir() / sha256[:2] / sha256 / "2-800.webp"
    assert cached.is_file()
    # Revalidated by its ETag; a URL that does not name the content is not kept for good.
    again = client.get(src, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    unnamed = client.get(f"/documents/{document.id}/versions/1/pages/1.webp?width=1000")
    assert unnamed["Cache-Control"] == "private, no-cache"
    with Image.open(io.BytesIO(b"".join(unnamed.streaming_content))) as image:
        assert image.width == 1200  # the next larger offered width
    # No such page, no such version.
    assert client.get(f"/documents/{document.id}/versions/1/pages/3.webp").status_code == 404
    assert client.get(f"/documents/{document.id}/versions/2/pages/1.webp").status_code == 404


def test_the_public_sees_the_redacted_copys_page_never_the_originals(document):
    public = Client()
    assert mean_grey(public.get(image_src(public, document))) > 250  # the original: white
    # A black page 1: the copy the public reads from now on.
    staged = blobstore.spool([filled_pdf(0, 128)], filename="request.redacted.pdf")
    actions.store_redacted_copy(document.versions.get(), staged, actor=Actor(label="tests"))
    src = image_src(public, document)
    assert mean_grey(public.get(src)) < 5
    # The URL it was given before names the original: not kept for good, and not the original.
    old = public.get(f"/documents/{document.id}/versions/1/pages/1.webp")
    assert old["Cache-Control"] == "private, no-cache"
    assert mean_grey(old) < 5
    # Staff keep reading the original.
    client = staff()
    assert mean_grey(client.get(image_src(client, document))) > 250


def test_a_document_the_public_may_not_see_has_no_image_for_it(document):
    document.visibility = "internal"
    document.save(update_fields=["visibility"])
    response = Client().get(f"/documents/{document.id}/versions/1/pages/1.webp")
    assert response.status_code == 404


def test_an_expunged_version_has_no_image_and_its_cached_images_go(
    document, django_capture_on_commit_callbacks
):
    client = staff()
    url = f"/documents/{document.id}/versions/1/pages/1.webp"
    assert client.get(url).status_code == 200
    sha256 = document.versions.get().blob_id
    folder = page_images.cache_dir() / sha256[:2] / sha256
    assert folder.is_dir()
    with django_capture_on_commit_callbacks(execute=True):
        actions.expunge_document(document, actor=Actor(label="dpo"), **ORDER)
    assert client.get(url).status_code == 410
    assert not folder.exists()
    assert 'id="first-paint"' not in client.get(f"/documents/{document.id}").content.decode()


def test_an_image_version_is_shown_as_itself_not_as_a_page_image():
    png = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(png, format="PNG")
    dossier = create_dossier("BG/P/2024/000125")
    document = file_document(dossier, png.getvalue(), filename="figure.png", type_code="DRW")
    client = staff()
    assert 'id="first-paint"' not in client.get(f"/documents/{document.id}").content.decode()
    assert client.get(f"/documents/{document.id}/versions/1/pages/1.webp").status_code == 404


def test_a_small_pdf_is_left_to_pdfjs(document, settings):
    """A PDF of a few of pdf.js's ranges is no quicker shown as an image: none is linked (the
    URL still answers)."""
    settings.EDMS_PAGE_IMAGE_MIN_BYTES = document.versions.get().blob.size + 1
    client = staff()
    assert 'id="first-paint"' not in client.get(f"/documents/{document.id}").content.decode()
    assert client.get(f"/documents/{document.id}/versions/1/pages/1.webp").status_code == 200
