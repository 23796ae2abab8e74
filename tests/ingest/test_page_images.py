"""The viewer's page images kept on disk (`ingest.page_images`): rendered in the sandbox once per
content, page and width; a page past the end refused (without rendering again once the page
count is known); forgotten by the sweep's prune when nobody looked at them for a month."""

from __future__ import annotations

import os
import time

import pytest
from PIL import Image

from ingest import page_images
from tests.conftest import create_dossier, file_document
from tests.pages_support import THREE_PAGES, paged_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cache_in_tmp(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


@pytest.fixture
def sha256() -> str:
    dossier = create_dossier("BG/P/2024/000321")
    document = file_document(dossier, paged_pdf(*THREE_PAGES), filename="description.pdf")
    return document.versions.get().blob_id


def test_a_page_is_rendered_once_at_an_offered_width(sha256):
    assert page_images.allowed_width(1000) == 1200
    assert page_images.allowed_width(5000) == page_images.WIDTHS[-1]
    path = page_images.page_image(sha256, 3, 480)
    with Image.open(path) as image:
        assert (image.format, image.width) == ("WEBP", 480)
    made = path.stat().st_mtime_ns
    assert page_images.page_image(sha256, 3, 480) == path
    assert path.stat().st_mtime_ns == made  # from the cache, not rendered again
    with pytest.raises(ValueError):
        page_images.page_image(sha256, 1, 500)


def test_a_page_past_the_end_is_refused(sha256):
    with pytest.raises(page_images.NoPageImage, match="3 page"):
        page_images.page_image(sha256, 4, 800)
    folder = page_images.cache_dir() / sha256[:2] / sha256
    assert (folder / "pages").read_text() == "3"
    os.remove(folder / ".lock")  # refused from the page count alone: no renderer is started
    with pytest.raises(page_images.NoPageImage):
        page_images.page_image(sha256, 9, 800)
    assert not (folder / ".lock").exists()


def test_prune_forgets_what_nobody_looked_at_for_a_month(sha256):
    page_images.page_image(sha256, 1, 480)
    folder = page_images.cache_dir() / sha256[:2] / sha256
    assert page_images.prune() == 0
    assert folder.is_dir()
    long_ago = time.time() - 31 * 86400
    os.utime(folder, (long_ago, long_ago))
    assert page_images.prune() == 1
    assert not folder.exists()
