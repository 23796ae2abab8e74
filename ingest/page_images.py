"""Page images for the viewer's first paint: one page of a stored PDF as a small WebP at screen
width, shown at once while pdf.js fetches what it needs to draw that page itself (issue 16,
point 2: a 352-page book's cover alone is a tenth of its bytes).

Rendered on demand, in the sandbox (the PDF is untrusted: an upload, or what OCR or LibreOffice
made of one), and kept on disk by content: a blob's bytes never change, so the image of
(content, page, width) stays right for good. Which content a reader is shown (the original, its
PDF/A, the redacted copy) is the caller's decision (`frontend`), made with the reader's access;
this module only renders what it is named. Images of expunged content are forgotten
(`forget_expunged`, after an expunge and in the sweep) and never rendered again, since the
caller refuses expunged versions first.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from dossier import blobstore
from dossier.models import Blob
from ingest.sandbox import Limits, SandboxFailure, run

MEDIA_TYPE = "image/webp"
# The widths offered (the viewer's `srcset`): a request for another is served the next larger,
# so the cache holds at most these per page.
WIDTHS = (480, 800, 1200, 1600)
# Lossy: the image is on screen for the second or so before pdf.js's page replaces it.
QUALITY = 60
# Rendering one page is quick; a PDF that makes pdfium take longer is shown by pdf.js alone.
LIMITS = Limits(timeout_s=30, memory_mib=1024)


class NoPageImage(Exception):
    """No image can be made of that page: the PDF has no such page, or cannot be rendered."""


def cache_dir() -> Path:
    return Path(settings.DATA_DIR) / "cache" / "pages"


def allowed_width(asked: int | None) -> int:
    """The offered width a request for `asked` pixels is served (the next larger; the largest
    at most; the second smallest when none is asked)."""
    if asked is None:
        return WIDTHS[1]
    return next((width for width in WIDTHS if width >= asked), WIDTHS[-1])


def page_image(sha256: str, page: int, width: int) -> Path:
    """The WebP of page `page` (1-based) of the PDF stored as `sha256`, `width` (one of
    `WIDTHS`) pixels wide, rendered if needed; raise `NoPageImage` if it cannot be made."""
    if width not in WIDTHS:
        raise ValueError(f"not an offered width: {width}")
    folder = cache_dir() / sha256[:2] / sha256
    target = folder / f"{page}-{width}.webp"
    if target.exists():
        os.utime(folder)  # in use: kept by `prune`
        return target
    folder.mkdir(parents=True, exist_ok=True)
    _refuse_beyond_the_end(folder, page)
    # One renderer per content: a second request for the same page waits, then finds its file.
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            _render(sha256, page, width, folder, target)
    return target


def _refuse_beyond_the_end(folder: Path, page: int) -> None:
    """A page past the end (known from an earlier render) is refused without rendering."""
    try:
        pages = int((folder / "pages").read_text())
    except (OSError, ValueError):
        return
    if not 1 <= page <= pages:
        raise NoPageImage(f"the PDF has {pages} page(s)")


def _render(sha256: str, page: int, width: int, folder: Path, target: Path) -> None:
    run_dir = Path(settings.FILE_UPLOAD_TEMP_DIR)
    run_dir.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(dir=run_dir, prefix="page-") as workdir,
        _local_file(sha256, workdir) as path,
    ):
        output = os.path.join(workdir, "page.webp")
        params = {"path": path, "page": page, "width": width, "quality": QUALITY}
        try:
            made = run(
                "ingest.render:page_image",
                params | {"output_path": output},
                limits=LIMITS,
                workdir=workdir,
            )
        except SandboxFailure as failure:
            raise NoPageImage(failure.detail or failure.code) from None
        _write_atomically(folder / "pages", str(made["pages"]).encode())
        if not made["made"]:
            raise NoPageImage(f"the PDF has {made['pages']} page(s)")
        _write_atomically(target, Path(output).read_bytes())  # a few tens of kB


@contextmanager
def _local_file(sha256: str, workdir: str) -> Iterator[str]:
    """The blob as a local file the sandbox can read: the stored file, or a copy (S3)."""
    local = blobstore.local_path(sha256)
    if local is not None and os.path.exists(local):
        yield local
        return
    copy = os.path.join(workdir, "document.pdf")
    with open(copy, "wb") as handle:
        for chunk in blobstore.read_chunks(sha256):
            handle.write(chunk)
    yield copy


def _write_atomically(target: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise


def forget_expunged() -> int:
    """Forget the page images of every content marked expunged (they must not outlive it
    here); returns how many contents had images."""
    folders = [folder for folder in cache_dir().glob("*/*") if folder.is_dir()]
    expunged = set(
        Blob.objects.filter(
            pk__in=[folder.name for folder in folders], expunged_at__isnull=False
        ).values_list("sha256", flat=True)
    )
    for folder in folders:
        if folder.name in expunged:
            shutil.rmtree(folder, ignore_errors=True)
    return len(expunged)


def prune(max_age_days: int = 30) -> int:
    """Forget the images of contents nobody looked at for `max_age_days`, and of every content
    expunged (one rendered while it was being expunged); returns how many were forgotten."""
    forgotten = forget_expunged()
    cutoff = time.time() - max_age_days * 86400
    for folder in cache_dir().glob("*/*"):
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            forgotten += 1
    return forgotten
