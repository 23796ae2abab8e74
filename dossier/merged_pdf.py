"""One PDF of chosen documents with a bookmark per document: the file wrapper read as one file,
as the best registers offer it.

Which documents go in follows the packages' rules (`dossier.packages`: what the reader may see,
no cancelled document or scan held for quality control, the redacted copy for a reader who reads
a document only redacted). Each goes in through its PDF form (`pdf_parts`): the OCR'd PDF/A of a
scan (it carries the text layer), else the original when it is a PDF, else processing's PDF of an
office file; for a reader of the redacted copy, that copy and nothing made from the original. A
document with no PDF form, or whose PDF cannot be read, is left out and named on a last page.

Memory: the merged file is written to a temporary file (`write`) that the caller streams. Each
part is copied from blob storage to a temporary file, verified on the way; qpdf copies only the
pages' object structure when pages are appended and reads their stream data (images, fonts) from
those files as it writes, so neither a part nor the result is ever held whole in memory.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings

from dossier import blobstore
from dossier.blobbackends import BlobMissing
from dossier.models import Blob, Document, Rendition, RenditionKind, Version

PDF = "application/pdf"
# A last page's lines are set in a standard font (no font to embed): Western European only.
_LINES_PER_PAGE = 45
LEFT_OUT_HEADING = "Not in this PDF (no PDF form)"


@dataclass(frozen=True)
class Part:
    """One document of the merged PDF: its version, the PDF read for it and its bookmark."""

    version: Version
    blob: Blob
    rendition: str | None  # the rendition read (`pdfa`, `pdf`, `redacted`), None: the original
    bookmark: str


@dataclass(frozen=True)
class Written:
    """What `write` put into the merged PDF."""

    pages: int
    merged: list[Part]  # in the file, each under its bookmark
    unreadable: list[Part]  # had a PDF form that could not be read (missing, altered, broken)


def pdf_parts(
    versions: list[Version],
    redacted: dict[int, Rendition],
    bookmark: Callable[[Document], str],
) -> tuple[list[Part], list[Version]]:
    """The PDF form of each of `versions` (as `packages.select_versions` gives them, then
    `packages.redacted_for`, whose `redacted` copies replace the originals), and the versions
    that have none."""
    forms = {
        (r.version_id, r.kind): r
        for r in Rendition.objects.filter(
            version__in=[v for v in versions if v.id not in redacted],
            kind__in=(RenditionKind.PDFA, RenditionKind.PDF),
        ).select_related("blob")
    }
    parts, without = [], []
    for version in versions:
        chosen = _pdf_form(version, redacted.get(version.id), forms)
        if chosen is None:
            without.append(version)
        else:
            blob, kind = chosen
            parts.append(Part(version, blob, kind, bookmark(version.document)))
    return parts, without


def _pdf_form(
    version: Version, copy: Rendition | None, forms: dict
) -> tuple[Blob, str | None] | None:
    if copy is not None:  # the reader reads this document only redacted
        return copy.blob, copy.kind
    # The viewer's order: a scan's PDF/A has the text layer the original lacks.
    pdfa = forms.get((version.id, RenditionKind.PDFA))
    if pdfa is not None:
        return pdfa.blob, pdfa.kind
    if (version.detected_media_type or version.media_type) == PDF:
        return version.blob, None
    office_pdf = forms.get((version.id, RenditionKind.PDF))
    if office_pdf is not None:
        return office_pdf.blob, office_pdf.kind
    return None


def write(parts: list[Part], out: BinaryIO, *, left_out: list[str], left_out_title: str) -> Written:
    """Write the merged PDF of `parts` into `out` (a seekable binary file): their pages in order,
    a bookmark per part; then, if any document is left out (`left_out`: a line for each, plus
    the parts found unreadable here), a last page listing them under `left_out_title`."""
    import pikepdf  # imported when needed: not on every process start (it logs on import)

    with contextlib.ExitStack() as stack:
        merged = stack.enter_context(pikepdf.new())
        marks: list[tuple[str, int]] = []
        done, unreadable = [], []
        for part in parts:
            try:
                source = pikepdf.open(stack.enter_context(_local_copy(part.blob)))
            except (BlobMissing, blobstore.ContentCorrupt, pikepdf.PdfError):
                unreadable.append(part)
                continue
            stack.enter_context(source)
            marks.append((part.bookmark, len(merged.pages)))
            merged.pages.extend(source.pages)
            done.append(part)
        lines = [*left_out, *(p.bookmark for p in unreadable)]
        if lines:
            marks.append((left_out_title, len(merged.pages)))
            _add_list_pages(merged, [_heading(left_out_title), "", *lines])
        with merged.open_outline() as outline:
            outline.root.extend(pikepdf.OutlineItem(title, page) for title, page in marks)
        merged.save(out)
        return Written(pages=len(merged.pages), merged=done, unreadable=unreadable)


@contextlib.contextmanager
def _local_copy(blob: Blob):
    """The blob's bytes in an anonymous temporary file (gone when closed), verified against
    its digest while copied: altered content never goes into a merged file."""
    with tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="merge-") as handle:
        for chunk in blobstore.read_verified(blob.sha256, blob.size):
            handle.write(chunk)
        handle.seek(0)
        yield handle


def _add_list_pages(pdf, lines: list[str]) -> None:
    """Append A4 pages listing `lines` in Helvetica (no font to embed; other scripts' letters
    are shown as '?', the bookmark keeps them)."""
    import pikepdf

    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica,
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )
    for start in range(0, len(lines), _LINES_PER_PAGE):
        shown = b"".join(
            b"(" + _pdf_string(line) + b") Tj 0 -16 Td "
            for line in lines[start : start + _LINES_PER_PAGE]
        )
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page,
            MediaBox=[0, 0, 595, 842],
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
            Contents=pdf.make_stream(b"BT /F1 11 Tf 56 780 Td " + shown + b"ET"),
        )
        pdf.pages.append(pikepdf.Page(page))


def _heading(title: str) -> str:
    """The last page's heading: `title`, unless its script is not Latin (the page's font has
    no Arabic letters; its bookmark keeps the title)."""
    try:
        title.encode("cp1252")
    except UnicodeEncodeError:
        return LEFT_OUT_HEADING
    return title


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
