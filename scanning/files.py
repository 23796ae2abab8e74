"""Scan content as files, never as whole `bytes`: a blob as a local path, a `pikepdf.Pdf`
stored as a blob, scanner images converted to PDF files.

A 100-page part of 300 dpi greyscale scans is some 50 MB. pikepdf opened on a path reads
objects from the file when they are needed, and saving writes to a file, so an operation on a part
holds a few chunks in memory rather than copies of the part.

The web server and every worker import this module; pikepdf and Pillow are imported by the
functions that use them, so a process that never splits or changes a scan does not hold them.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from dossier import blobstore
from dossier.blobstore import StagedFile
from dossier.models import Blob

if TYPE_CHECKING:
    import pikepdf

PDF_MAGIC = b"%PDF-"
TIFF_MAGICS = (b"II*\x00", b"MM\x00*")
PDF_TYPE = "application/pdf"
# Frame modes a PDF page image keeps as they are; other frames are converted to RGB.
PDF_IMAGE_MODES = ("1", "L", "RGB")


@contextmanager
def local_file(sha256: str) -> Iterator[str]:
    """The blob as a local file: the stored file itself, or a streamed temporary copy (S3).
    The stored file is read-only: open it, never write to it."""
    local = blobstore.local_path(sha256)
    if local is not None and os.path.exists(local):
        yield local
        return
    with tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR, suffix=".pdf") as copy:
        for chunk in blobstore.read_chunks(sha256):
            copy.write(chunk)
        copy.flush()
        yield copy.name


@contextmanager
def open_blob_pdf(sha256: str) -> Iterator[pikepdf.Pdf]:
    """The PDF stored as `sha256`, opened lazily from a local file (closed on exit)."""
    import pikepdf  # here, not at the top: kept out of processes that never open a scan

    with local_file(sha256) as path, pikepdf.open(path) as pdf:
        yield pdf


@contextmanager
def temporary_path(suffix: str = ".pdf") -> Iterator[Path]:
    """A fresh file name in `FILE_UPLOAD_TEMP_DIR` (swept by `blobstore.sweep_stale` if a killed
    process leaves it), removed on exit."""
    handle, name = tempfile.mkstemp(dir=settings.FILE_UPLOAD_TEMP_DIR, suffix=suffix)
    os.close(handle)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def file_chunks(path: str | os.PathLike) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(blobstore.CHUNK_SIZE):
            yield chunk


def head(path: str | os.PathLike, size: int = 8) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


def spool_blob(sha256: str, filename: str) -> StagedFile:
    """A spool copy of a stored PDF, e.g. to file it as a document version (which uses it up)."""
    return blobstore.spool(blobstore.read_chunks(sha256), filename=filename, declared_type=PDF_TYPE)


@dataclass
class StoredPdf:
    blob: Blob
    page_count: int
    # The saved content, for one `splitting.route` or `actions.add_version` (both use it up).
    staged: StagedFile

    def staged_as(self, filename: str) -> StagedFile:
        return dataclasses.replace(self.staged, filename=filename)


@contextmanager
def stored_pdf(pdf: pikepdf.Pdf, filename: str) -> Iterator[StoredPdf]:
    """Save `pdf` and store it as a blob (content-addressed: storing it twice stores it once).

    Yields the blob, the page count and the spool of the content, which is removed on exit
    unless a document version used it up first. `pdf` and the PDFs its pages come from must
    stay open until this returns.
    """
    with temporary_path() as saved:
        pdf.save(saved)
        staged = blobstore.spool(file_chunks(saved), filename=filename, declared_type=PDF_TYPE)
    try:
        blob = Blob.objects.store(staged, media_type=PDF_TYPE, keep_spool=True)
        yield StoredPdf(blob, len(pdf.pages), staged)
    finally:
        staged.discard()


def tiff_to_pdf(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Write a (multi-page) TIFF, what many production scanners write, as a PDF of one page per
    frame. Pillow reads one frame at a time, so a long batch is never all in memory."""
    from PIL import Image  # here, not at the top: kept out of processes that never convert

    with Image.open(source) as image:
        dpi = float(image.info.get("dpi", (300, 300))[0] or 300)
        frames = getattr(image, "n_frames", 1)
        modes = set()
        for number in range(frames):
            image.seek(number)  # reads the frame's header, not its pixels
            modes.add(image.mode)
        image.seek(0)
        if modes <= set(PDF_IMAGE_MODES):
            image.save(target, format="PDF", resolution=dpi, save_all=True)
            return
        # Frames to convert first: one at a time, each appended to the PDF written so far.
        for number in range(frames):
            image.seek(number)
            frame = image if image.mode in PDF_IMAGE_MODES else image.convert("RGB")
            frame.save(target, format="PDF", resolution=dpi, append=number > 0)


def image_to_pdf(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Write a single image (PNG, JPEG, …) as a one-page PDF; raises PIL's
    `UnidentifiedImageError` for a file that is no image."""
    from PIL import Image  # here, not at the top: kept out of processes that never convert

    with Image.open(source) as image:
        dpi = float(image.info.get("dpi", (300, 300))[0] or 300)
        image.convert("L" if image.mode in ("1", "L", "LA") else "RGB").save(
            target, format="PDF", resolution=dpi
        )
