"""Sandbox operation: the perceptual hash (`dossier.page_hashes`) of every page of a PDF or
image, up to a cap, for the near-duplicate check: a re-filing with a new cover page, or a scan
of a PDF filed earlier, shares its later pages' images with the earlier document.

Pages are rendered small: the hash reads a 17 x 16 grayscale, so a page `WIDTH` pixels wide
hashes as its full-size thumbnail does (within a few bits), at a fraction of the cost. Runs in
the sandbox child (`ingest.sandbox`), like every decoding of an untrusted file.
"""

from __future__ import annotations

from dossier.page_hashes import page_hash
from ingest.extractors.base import ExtractionFailed
from ingest.image_formats import open_image

PDF_MEDIA_TYPE = "application/pdf"
# Wide enough that the 17-pixel hash grid sees the page as the thumbnail does (measured in
# tests/bench/page_hashes.py: within a few bits of the thumbnail's hash), small enough that
# rendering stays a few milliseconds a page.
WIDTH = 160


def page_hashes(*, path: str, media_type: str, max_pages: int) -> dict:
    """The hashes of the first `max_pages` pages (None for a blank page), and how many pages
    the file has."""
    if media_type == PDF_MEDIA_TYPE:
        return _pdf_hashes(path, max_pages)
    return _image_hashes(path, max_pages)


def _pdf_hashes(path: str, max_pages: int) -> dict:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise ExtractionFailed("preview-failed", f"pdfium: {exc}") from None
    hashes = []
    try:
        pages = len(pdf)
        for index in range(min(pages, max_pages)):
            try:
                page = pdf[index]
            except pdfium.PdfiumError:
                hashes.append(None)  # a damaged page says nothing, as a blank one
                continue
            try:
                scale = WIDTH / max(page.get_width(), 1)
                # Grayscale straight from pdfium: a third of the pixels to make and convert.
                image = page.render(scale=scale, grayscale=True).to_pil()
            finally:
                page.close()
            hashes.append(page_hash(image))
    finally:
        pdf.close()
    return {"hashes": hashes, "pages": pages}


def _image_hashes(path: str, max_pages: int) -> dict:
    from PIL import Image, UnidentifiedImageError

    hashes = []
    try:
        with open_image(path) as image:
            pages = getattr(image, "n_frames", 1)
            for index in range(min(pages, max_pages)):
                image.seek(index)
                # JPEGs decode straight at a reduced size: a huge photo never lands whole.
                image.draft("L", (WIDTH * 4, WIDTH * 16))
                frame = image.convert("L")
                frame.thumbnail((WIDTH * 4, WIDTH * 16))
                hashes.append(page_hash(frame))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ExtractionFailed("preview-failed", f"Pillow: {exc}") from None
    return {"hashes": hashes, "pages": pages}
