"""Renditions made from untrusted files (sandbox side): office documents to PDF with LibreOffice,
first-page thumbnails with pypdfium2 (PDFs) or Pillow (images), the page images the viewer
paints before pdf.js has the page (`ingest.page_images`), and a person's uploaded query image as
a small PNG the web process may read (`ingest.uploaded_images`).

Both run in the sandbox child (`ingest.sandbox`); LibreOffice runs as the child's own child, so
it inherits the memory cap, the empty network namespace and the process group a timeout kills.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from ingest.extractors.base import ExtractionFailed
from ingest.image_formats import open_image

THUMBNAIL_MEDIA_TYPE = "image/png"
PDF_MEDIA_TYPE = "application/pdf"

# What LibreOffice is asked to convert, by detected media type: the extension tells it the filter.
OFFICE_EXTENSIONS = {
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-word.document.macroenabled.12": "docm",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/rtf": "rtf",
    "text/rtf": "rtf",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": "xlsm",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.ms-powerpoint.presentation.macroenabled.12": "pptm",
    "application/vnd.oasis.opendocument.presentation": "odp",
}


def office_extension(media_type: str) -> str | None:
    """The extension to convert a file of this media type with; None: not an office document."""
    return OFFICE_EXTENSIONS.get(media_type.split(";")[0].strip().lower())


def office_to_pdf(*, path: str, extension: str, soffice: str, output_path: str) -> dict:
    """Sandbox operation: convert an office document to PDF with LibreOffice in headless mode.

    Each conversion starts its own LibreOffice with its own profile
    (`-env:UserInstallation`) in the job's directory: two conversions at once never share one,
    and nothing a document does to a profile outlives it."""
    workdir = os.path.dirname(output_path)
    source = os.path.join(workdir, f"document.{extension}")
    os.symlink(path, source)
    outdir = os.path.join(workdir, "soffice-out")
    profile = os.path.join(workdir, "soffice-profile")
    command = [
        soffice,
        "--headless",
        "--norestore",
        "--nologo",
        "--nolockcheck",
        f"-env:UserInstallation=file://{profile}",
        "--convert-to",
        "pdf",
        "--outdir",
        outdir,
        source,
    ]
    # The sandbox's wall-clock limit bounds this (it kills the whole process group).
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    produced = os.path.join(outdir, "document.pdf")
    if not os.path.exists(produced) or os.path.getsize(produced) == 0:
        said = (finished.stderr or finished.stdout).strip().splitlines()
        raise ExtractionFailed(
            "conversion-failed", f"LibreOffice: {said[-1][:300] if said else 'no output'}"
        )
    shutil.move(produced, output_path)
    return {"pages": _pdf_pages(output_path)}


def thumbnail(*, path: str, media_type: str, output_path: str, width: int) -> dict:
    """Sandbox operation: the first page of a PDF or image as a PNG `width` pixels wide."""
    if media_type == PDF_MEDIA_TYPE:
        image = _first_pdf_page(path, width)
    else:
        image = _first_image_frame(path, width)
    image.save(output_path, format="PNG", optimize=True)
    return {"width": image.width, "height": image.height}


def page_image(*, path: str, page: int, width: int, quality: int, output_path: str) -> dict:
    """Sandbox operation: page `page` (1-based) of a PDF as a WebP `width` pixels wide, lossy
    at `quality` (a stand-in shown until pdf.js draws the page, so small bytes over fidelity).
    The PDF's page count either way; `made` is false when it has no such page."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise ExtractionFailed("preview-failed", f"pdfium: {exc}") from None
    try:
        pages = len(pdf)
        if not 1 <= page <= pages:
            return {"pages": pages, "made": False}
        shown = pdf[page - 1]
        try:
            # pdfium rounds the bitmap size up: aim half a pixel short of `width`.
            scale = (width - 0.5) / max(shown.get_width(), 1)
            image = shown.render(scale=scale).to_pil().convert("RGB")
        finally:
            shown.close()
    finally:
        pdf.close()
    image.save(output_path, format="WEBP", quality=quality, method=4)
    return {"pages": pages, "made": True, "width": image.width, "height": image.height}


def bounded_png(*, path: str, side: int, max_pixels: int, output_path: str) -> dict:
    """Sandbox operation: an untrusted image (a query someone uploaded) as an RGB PNG at most
    `side` pixels on its longer side, upright (EXIF), transparency over white. An image of more
    than `max_pixels` is refused from its header, before it is decoded (`made` false, with its
    size); one Pillow cannot read (a non-image, a truncated file) is `unreadable-image`."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = max_pixels  # Pillow refuses more itself too (a bomb's frames)
    try:
        with open_image(path) as image:
            width, height = image.size
            if width * height > max_pixels:
                return {"made": False, "width": width, "height": height}
            image.draft("RGB", (side, side))  # JPEG: decode at a fraction of the size
            upright = ImageOps.exif_transpose(image)
            transparent = upright.mode in ("RGBA", "LA", "PA") or (
                upright.mode == "P" and "transparency" in upright.info
            )
            # Reduced first, then laid over white: the large image is touched once.
            small = upright.convert("RGBA" if transparent else "RGB")
            small.thumbnail((side, side), Image.Resampling.LANCZOS)
            if transparent:
                white = Image.new("RGBA", small.size, "white")
                small = Image.alpha_composite(white, small).convert("RGB")
    except Image.DecompressionBombError as exc:
        return {"made": False, "detail": str(exc)}
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ExtractionFailed("unreadable-image", f"Pillow: {exc}") from None
    small.save(output_path, format="PNG")
    return {"made": True, "width": small.width, "height": small.height}


def _first_pdf_page(path: str, width: int):
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise ExtractionFailed("preview-failed", f"pdfium: {exc}") from None
    try:
        if len(pdf) == 0:
            raise ExtractionFailed("preview-failed", "the PDF has no pages")
        page = pdf[0]
        scale = width / max(page.get_width(), 1)
        return page.render(scale=scale).to_pil().convert("RGB")
    finally:
        pdf.close()


def _first_image_frame(path: str, width: int):
    from PIL import Image, UnidentifiedImageError

    try:
        with open_image(path) as image:
            image.seek(0)
            # JPEGs decode straight at a reduced size: a huge photo never lands whole in memory.
            image.draft("RGB", (width, width * 4))
            frame = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ExtractionFailed("preview-failed", f"Pillow: {exc}") from None
    height = max(1, round(frame.height * width / max(frame.width, 1)))
    return frame.resize((width, height), Image.Resampling.LANCZOS)


def _pdf_pages(path: str) -> int:
    import pikepdf

    try:
        with pikepdf.open(path) as pdf:
            return len(pdf.pages)
    except pikepdf.PdfError as exc:
        detail = f"LibreOffice produced an unreadable PDF: {exc}"
        raise ExtractionFailed("conversion-failed", detail) from None
