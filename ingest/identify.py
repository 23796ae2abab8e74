"""Identify a file: its media type by content, and for PDFs what pikepdf (qpdf) finds inside."""

from __future__ import annotations

import mimetypes
import os
import re

import filetype

from ingest.extractors.base import ExtractionFailed

PDF_MAGIC = b"%PDF-"
PDF_MEDIA_TYPE = "application/pdf"
XML_MEDIA_TYPE = "application/xml"
HTML_MEDIA_TYPE = "text/html"
# How much of a file's start content sniffing looks at (magic numbers, the first markup).
HEAD_BYTES = 8192
# What a filename says when it says nothing about markup: the content decides.
_VAGUE_TYPES = (None, "text/plain", "application/octet-stream")
# Before the first element: a byte-order mark, blanks, comments, processing instructions, a
# DOCTYPE (ST.32 files declare their entities in it).
_PROLOG = re.compile(
    rb"\A(?:\xef\xbb\xbf)?(?:\s+|<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)*", re.S
)
_HTML_START = re.compile(rb"<(?:!DOCTYPE\s+html|html[\s>]|head[\s>]|body[\s>])", re.I)
_ELEMENT_START = re.compile(rb"<[A-Za-z_][\w.:-]*[\s/>]")


def looks_like_pdf(path: str) -> bool:
    # The PDF header may follow some garbage; readers accept it within the first kilobyte.
    with open(path, "rb") as handle:
        return PDF_MAGIC in handle.read(1024)


def sniff_media_type(path: str, filename: str) -> str:
    """By magic bytes, then by the filename (as `dossier.blobstore` does, without Django: the
    sandbox child starts faster without it); markup by content when the name is vague."""
    kind = filetype.guess(path)
    if kind is not None:
        return kind.mime
    by_name = mimetypes.guess_type(filename or "")[0]
    if by_name in _VAGUE_TYPES:
        with open(path, "rb") as handle:
            by_name = sniff_markup(handle.read(HEAD_BYTES)) or by_name
    return by_name or "application/octet-stream"


def sniff_markup(head: bytes) -> str | None:
    """XML or HTML by the file's first markup, whatever its name or declaration: patent XML
    often starts with its root element (JP gazettes, EP and US pre-grant files have no
    `<?xml` declaration). None for anything else (plain text, binary, UTF-16)."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    rest = head[_PROLOG.match(head).end() :]
    if _HTML_START.match(start) or _HTML_START.match(rest):
        return HTML_MEDIA_TYPE
    if start.startswith(b"<?xml"):
        return XML_MEDIA_TYPE
    # An element that is closed somewhere: `<reply to this>` in a plain-text letter is not XML.
    if _ELEMENT_START.match(rest) and (b"</" in rest or b"/>" in rest):
        return XML_MEDIA_TYPE
    return None


# What a file named .pdf may turn out to be that no reader should open as a document: an
# archive (a clerk can unpack it; its files are documents of their own).
ARCHIVE_MEDIA_TYPES = frozenset({"application/zip", "application/x-zip-compressed"})


def misnamed_archive(media_type: str, filename: str) -> bool:
    """Whether a file named .pdf is, by its content, a ZIP archive."""
    return media_type in ARCHIVE_MEDIA_TYPES and (filename or "").lower().endswith(".pdf")


def is_pdf(path: str, media_type: str) -> bool:
    return media_type == PDF_MEDIA_TYPE or looks_like_pdf(path)


def identify(*, path: str, filename: str) -> dict:
    """`{"media_type", "page_count", "encrypted", "pdfa", "repaired_path", "detail"}` as far as
    magic bytes tell; matching a few header bytes parses nothing, so this runs in the worker."""
    media_type = sniff_media_type(path, filename)
    found = {"media_type": media_type, "page_count": None, "encrypted": False, "pdfa": ""}
    found |= {"repaired_path": None, "detail": media_type, "scanned_pages": 0, "blank_pages": 0}
    return found


def inspect_pdf(*, path: str, workdir: str) -> dict:
    """Sandbox operation: what qpdf finds in a PDF (a hostile one may make it loop or allocate
    without bound). Raises `ExtractionFailed` for an encrypted or unreadable PDF."""
    import pikepdf

    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError:
        raise ExtractionFailed("encrypted-pdf", "a password is required") from None
    except pikepdf.PdfError as exc:
        raise ExtractionFailed("damaged-pdf", _qpdf_message(exc, path)) from None
    with pdf:
        try:
            pages = len(pdf.pages)
        except pikepdf.PdfError as exc:
            raise ExtractionFailed("damaged-pdf", _qpdf_message(exc, path)) from None
        found = {
            "media_type": PDF_MEDIA_TYPE,
            "repaired_path": None,
            "page_count": pages,
            "encrypted": pdf.is_encrypted,
            "pdfa": _pdfa_status(pdf),
            "detail": f"PDF {pdf.pdf_version}, {pages} page{'s' if pages != 1 else ''}",
            "scanned_pages": _scanned_pages(pdf),
            "blank_pages": _blank_pages(pdf),
        }
        warnings = pdf.get_warnings()
        if warnings:
            repaired_path, note = _repair(pdf, path, workdir, warnings)
            found |= {"repaired_path": repaired_path, "detail": f"{found['detail']}; {note}"}
    if found["encrypted"]:
        found["detail"] += ", encrypted (opens without a password)"
    return found


def _scanned_pages(pdf) -> int:
    """Pages that look scanned: an image and no font of their own (so no text layer)."""
    import pikepdf

    count = 0
    for page in pdf.pages:
        try:
            if page.resources.get("/Font"):
                continue
            count += bool(page.get_images()) or _has_inline_image(page)
        except (pikepdf.PdfError, AttributeError, KeyError, TypeError, ValueError):
            continue  # a damaged page: not evidence of a scan
    return count


# What puts ink on a page: text, a painted path, an XObject (image or form), a shading, an
# inline image. A page whose content has none of these is blank.
_PAINTING = "Tj TJ ' \" S s f F f* B B* b b* Do sh BI ID EI"


def _blank_pages(pdf) -> int:
    """Pages that show nothing at all (no text, path, image or shading drawn). Pages with fonts
    or images of their own are not parsed (a text page's content is long): they are not blank."""
    import pikepdf

    count = 0
    for page in pdf.pages:
        try:
            if page.resources.get("/Font") or page.get_images():
                continue
            count += not pikepdf.parse_content_stream(page, _PAINTING)
        except (pikepdf.PdfError, AttributeError, KeyError, TypeError, ValueError):
            continue  # a damaged page: not evidence of a blank one
    return count


def _has_inline_image(page) -> bool:
    """Images written into the page's content stream (BI … ID … EI), as some scanners do."""
    import pikepdf

    return any(
        isinstance(instruction, pikepdf.ContentStreamInlineImage)
        for instruction in pikepdf.parse_content_stream(page, "BI ID EI")
    )


def _repair(pdf, path: str, workdir: str, warnings: list[str]) -> tuple[str | None, str]:
    """qpdf read a damaged file (e.g. a broken xref) by reconstructing it: save that repair so
    the extractor reads a sound file. The original is never touched."""
    import pikepdf

    repaired = os.path.join(workdir, "repaired.pdf")
    first = _qpdf_message(warnings[0], path)
    try:
        pdf.save(repaired)
    except (pikepdf.PdfError, OSError) as exc:
        return None, f"damaged ({first}); repair failed: {_qpdf_message(exc, path)}"
    return repaired, f"repaired a damaged file ({len(warnings)} qpdf warnings, first: {first})"


def _pdfa_status(pdf) -> str:
    try:
        return pdf.open_metadata().pdfa_status or ""
    except Exception:  # broken XMP is common and only means "no PDF/A claim we can read"
        return ""


def _qpdf_message(error, path: str) -> str:
    """qpdf's message without the (temporary) file name it starts with."""
    message = str(error)
    for prefix in (f"{path}: ", f"{path} ", path):
        if message.startswith(prefix):
            message = message[len(prefix) :]
            break
    return message.strip()[:300] or "qpdf could not read it"
