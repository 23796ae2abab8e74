"""OCR of scanned paper into a searchable PDF/A, with OCRmyPDF and Tesseract (sandbox side).

`ocr_to_pdfa` runs in the sandbox child (`ingest.sandbox`), never in a worker: OCRmyPDF parses
the untrusted file and starts Tesseract (and, for some files, Ghostscript) as its own children,
which inherit the child's memory cap and process group, so a timeout kills them all.

Debian 12's Ghostscript 10.0.0 makes OCRmyPDF refuse `skip_text` with PDF/A output; the
`internal` PDF/A backend (pikepdf writes the PDF/A declarations, no Ghostscript pass) avoids
that, and keeps the scan's images as they are.

Preprocessing (`rotate_pages`, `deskew`, `clean`, `clean_final`) comes from the worker, which
reads the settings and leaves out what this machine lacks (`ingest.renditions.ocr_preprocessing`).
Turning a page upright only changes its `/Rotate`, and `clean` only cleans the image Tesseract
reads: the PDF/A still shows the scanner's image. `deskew` and `clean_final` replace it with a
re-encoded one. OCRmyPDF refuses both with `redo_ocr`; edms uses `skip_text`, which leaves pages
that already have text untouched and straightens or cleans only the others.
"""

from __future__ import annotations

import os
import re

from ingest.extractors.base import ExtractionFailed
from ingest.image_formats import HEIF_IMAGE_TYPES
from ingest.image_pdf import image_to_pdf

# Raster images read as scans: each becomes a PDF first (`ingest.image_pdf`), every frame a page.
# Vector images carry their text.
OCR_IMAGE_TYPES = {
    *("image/tiff", "image/png", "image/jpeg", "image/jp2"),
    *("image/gif", "image/bmp", "image/x-ms-bmp", "image/webp"),
    *HEIF_IMAGE_TYPES,
}
PAGE_TIMEOUT_S = 180
# OCRmyPDF linearizes outputs larger than this many megabytes: larger than any file, never.
NEVER_LINEARIZED_MB = 1_000_000_000
# OCRmyPDF's options that prepare the page images (edms's settings EDMS_OCR_ROTATE_PAGES, …).
PREPROCESSING = {"rotate_pages", "rotate_pages_threshold", "deskew", "clean", "clean_final"}
_SKIPPED_MARKER = re.compile(r"\[OCR skipped on page\(s\) [0-9, -]+\]")


def preload() -> None:
    """Sandbox warm-up (`ingest.sandbox`): OCRmyPDF imported once in the zygote, at its first OCR
    job, rather than in each OCR job's child (~0.3 s of CPU). Not at the zygote's start: a copy
    of its ~20 MiB would be in every child, the born-digital files' too."""
    import ocrmypdf  # noqa: F401


def ocr_to_pdfa(
    *,
    path: str,
    media_type: str,
    languages: list[str],
    output_path: str,
    text_path: str,
    preprocessing: dict[str, bool | float] | None = None,
    force: bool = False,
) -> dict:
    """Sandbox operation: OCR `path` (a PDF without a text layer, or an image) into a PDF/A at
    `output_path` and its text into `text_path`, with OCRmyPDF's `preprocessing` options (any of
    `PREPROCESSING`); `force`: render and read every page of a PDF, replacing its (unreadable)
    text layer. Returns `{"pages", "pdfa", "chars", "languages", "turned", "converter"}`
    (`turned`: how many pages were turned upright; `converter`: what made an image's PDF,
    `ingest.image_pdf`, "" for a PDF); raises `ExtractionFailed` with a reason a person can act
    on."""
    import ocrmypdf
    from ocrmypdf import exceptions as errors

    preprocessing = preprocessing or {}
    unknown = set(preprocessing) - PREPROCESSING
    if unknown:
        raise ValueError(f"unknown OCR preprocessing options: {sorted(unknown)}")
    options = {
        **preprocessing,
        "language": languages,
        "sidecar": text_path,
        "jobs": 1,  # one page at a time: the sandbox's memory cap is per process
        "progress_bar": False,
        "pdfa_backend": "internal",
        "tesseract_timeout": PAGE_TIMEOUT_S,
        # The rendition is a new file: a signature on the original stays valid there.
        "invalidate_digital_signatures": True,
        # Never linearized ("fast web view" is OCRmyPDF's default above 1 MB): the viewer
        # (pdf.js) opens a file from the cross-reference table at its end and then fetches only
        # the ranges a page needs; a linearized file's hint tables are no use to it, and its
        # first-page section holds objects (fonts) every page shares.
        "fast_web_view": NEVER_LINEARIZED_MB,
    }
    source, converter = path, ""
    if media_type.startswith("image/"):
        # A PDF of the image's frames first (losslessly, `ingest.image_pdf`): OCRmyPDF's own
        # image input takes one that img2pdf accepts as it is, and fails on the rest.
        source = f"{os.path.splitext(output_path)[0]}-image.pdf"
        converter = image_to_pdf(path, source)["converter"]
        options["skip_text"] = True
    elif force:
        options["force_ocr"] = True  # its text layer failed the quality gate: read the pages
    else:
        options["skip_text"] = True  # pages that do have text keep it
    try:
        try:
            ocrmypdf.ocr(source, output_path, output_type="pdfa", **options)
        except errors.PdfaConversionFailedError:
            # A few inputs cannot be made PDF/A-valid without Ghostscript: keep a plain PDF.
            ocrmypdf.ocr(source, output_path, output_type="pdf", **options)
    except errors.EncryptedPdfError:
        raise ExtractionFailed("encrypted-pdf", "OCRmyPDF: the PDF is encrypted") from None
    except errors.DpiError as exc:
        raise ExtractionFailed("image-resolution-too-low", f"OCRmyPDF: {exc}") from None
    except errors.UnsupportedImageFormatError as exc:
        detail = f"OCRmyPDF: {media_type} images are not supported ({exc})"
        raise ExtractionFailed("image-format-unsupported", detail) from None
    except errors.MissingDependencyError as exc:
        raise ExtractionFailed("ocr-unavailable", _first_line(exc)) from None
    except errors.ExitCodeException as exc:
        raise ExtractionFailed("ocr-failed", _first_line(exc) or type(exc).__name__) from None
    rotations = _rotations(output_path)
    # The pages as they were before OCR: an image's as its PDF laid them out.
    before = _rotations(source)
    return {
        "pages": len(rotations),
        "pdfa": _pdfa_status(output_path),
        "chars": _clean_sidecar(text_path),
        "languages": languages,
        "turned": sum(1 for old, new in zip(before, rotations, strict=False) if old != new),
        "converter": converter,
    }


def _clean_sidecar(text_path: str) -> int:
    """Drop OCRmyPDF's '[OCR skipped on page(s) …]' notes; returns the text's length."""
    try:
        with open(text_path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except FileNotFoundError:
        text = ""
    text = _SKIPPED_MARKER.sub("", text)
    with open(text_path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return len(text)


def _rotations(pdf_path: str) -> list[int]:
    """Each page's `/Rotate` in degrees (0, 90, 180, 270), inherited from the page tree."""
    import pikepdf

    with pikepdf.open(pdf_path) as pdf:
        return [_rotation(page.obj) for page in pdf.pages]


def _rotation(node) -> int:
    for _ in range(64):  # a page tree is shallow; a cycle in a hostile file must not hang us
        if node is None:
            break
        if "/Rotate" in node:
            try:
                return int(node.Rotate) % 360
            except (TypeError, ValueError):
                return 0
        node = node.get("/Parent")
    return 0


def _pdfa_status(pdf_path: str) -> str:
    import pikepdf

    with pikepdf.open(pdf_path) as pdf:
        try:
            return pdf.open_metadata().pdfa_status or ""
        except Exception:  # unreadable XMP: no PDF/A claim
            return ""


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else ""
