"""One PDF of chosen documents with a bookmark per document: the file wrapper read as one file,
as the best registers offer it.

Which documents go in follows the packages' rules (`dossier.packages`: what the reader may see,
no cancelled document or scan held for quality control, the redacted copy for a reader who reads
a document only redacted). Each goes in through its PDF form (`pdf_parts`): the OCR'd PDF/A of a
scan (it carries the text layer), else the original when it is a PDF, else processing's PDF of an
office file; for a reader of the redacted copy, that copy and nothing made from the original. A
document with no PDF form, or whose PDF cannot be read, is left out and named on a last page.

Memory: the merged file is written to a temporary file (`write`) that the caller streams. Each
part is copied from blob storage to a temporary file, verified on the way; qpdf's command line
concatenates them (it reads the pages' stream data, scans' images, from those files as it writes
them), then pikepdf adds the bookmarks and writes the result into the caller's file, again
reading stream data from the concatenation as it writes. Neither a part nor the result is ever
held whole in memory (a 168 MB merge of four 42 MB scans: 36 MB for qpdf, 46 MB for pikepdf).
Untrusted PDFs are read by qpdf in a child process with a time limit.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from dossier import blobstore
from dossier.blob_interface import BlobMissing
from dossier.models import Blob, Document, Rendition, RenditionKind, Version

PDF = "application/pdf"
# A last page's lines are set in a standard font (no font to embed): Western European only.
_LINES_PER_PAGE = 45
LEFT_OUT_HEADING = "Not in this PDF (no PDF form)"
# Seconds qpdf may take to count a part's pages or to write the concatenation.
QPDF_TIMEOUT = 300


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

    with tempfile.TemporaryDirectory(dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="merge-") as work:
        marks: list[tuple[str, int]] = []
        done, unreadable, paths = [], [], []
        first_page = 0
        for number, part in enumerate(parts):
            path = Path(work) / f"{number}.pdf"
            pages = _copy(part.blob, path) and _page_count(path)
            if not pages:
                unreadable.append(part)
                continue
            marks.append((part.bookmark, first_page))
            first_page += pages
            done.append(part)
            paths.append(path)
        concatenated = Path(work) / "merged.pdf"
        if paths:
            _concatenate(paths, concatenated)
        with pikepdf.open(concatenated) if paths else pikepdf.new() as merged:
            lines = [*left_out, *(p.bookmark for p in unreadable)]
            if lines:
                marks.append((left_out_title, len(merged.pages)))
                _add_list_pages(merged, [_heading(left_out_title), "", *lines])
            with merged.open_outline() as outline:
                outline.root[:] = [pikepdf.OutlineItem(title, page) for title, page in marks]
            # Same-file stream data: read from `concatenated` as it is written, not before.
            merged.save(out)
            return Written(pages=len(merged.pages), merged=done, unreadable=unreadable)


def _copy(blob: Blob, path: Path) -> bool:
    """Copy the blob's bytes to `path`, verified against its digest on the way (altered
    content never goes into a merged file); False if it is missing or altered."""
    try:
        with open(path, "wb") as handle:
            for chunk in blobstore.read_verified(blob.sha256, blob.size):
                handle.write(chunk)
    except (BlobMissing, blobstore.ContentCorrupt):
        return False
    return True


def _page_count(path: Path) -> int:
    """How many pages qpdf finds in the PDF at `path`; 0 if it cannot read it (damaged,
    encrypted with a password, not a PDF, or too slow to read)."""
    try:
        answer = _qpdf("--show-npages", str(path))
    except QpdfRefused:
        return 0
    return int(answer) if answer.strip().isdecimal() else 0


def _concatenate(paths: list[Path], target: Path) -> None:
    """The pages of `paths`, in order, into a new PDF at `target`. qpdf's command copies each
    page's stream data (scans' images) from its file as it writes, a few MiB of memory
    whatever the sizes; pikepdf's `pages.extend` would copy it all into memory first."""
    _qpdf("--empty", "--pages", *map(str, paths), "--", str(target))


class QpdfRefused(Exception):
    """qpdf could not do it (its message), or took longer than `QPDF_TIMEOUT`."""


def _qpdf(*arguments: str) -> str:
    """Run qpdf (a child process: a hostile PDF that makes it loop is stopped, not the web
    worker); its standard output. Warnings (a repaired file) are not failures."""
    try:
        done = subprocess.run(
            ["qpdf", "--warning-exit-0", "--no-warn", *arguments],
            capture_output=True,
            timeout=QPDF_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise QpdfRefused(f"qpdf took more than {QPDF_TIMEOUT} s") from None
    except FileNotFoundError:  # a system package (infra/install-system-packages.sh)
        raise QpdfRefused("qpdf is not installed") from None
    if done.returncode != 0:
        raise QpdfRefused(done.stderr.decode(errors="replace").strip())
    return done.stdout.decode(errors="replace")


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
