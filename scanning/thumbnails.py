"""Page thumbnails of scan parts for the QC pages, rendered once per content and kept on disk.

A part's content is content-addressed and never changes (a QC operation makes new content), so a
thumbnail rendered for (content, page) stays right for good. All pages of a content are rendered
together on the first miss — the QC page asks for every page at once, and with S3 the part is
downloaded once rather than once per page — from a local file that pdfium reads lazily, never
from a copy of the whole part in memory.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

from dossier.models import Blob
from scanning.files import local_file

WIDTH = 240  # pixels; shown at half size in the queue, full size on the part page


def cache_dir() -> Path:
    return Path(settings.DATA_DIR) / "cache" / "thumbnails"


def thumbnail_path(sha256: str, page: int) -> Path:
    """The PNG of page `page` (1-based) of the PDF stored as `sha256`, rendering it if needed."""
    folder = cache_dir() / sha256[:2] / sha256
    target = folder / f"{page}-{WIDTH}.png"
    if target.exists():
        os.utime(folder)  # in use: kept by `prune`
        return target
    folder.mkdir(parents=True, exist_ok=True)
    # One renderer per content: a second request for a page waits, then finds its file.
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            _render_all(sha256, folder)
    return target


def _render_all(sha256: str, folder: Path) -> None:
    import pypdfium2 as pdfium  # here, not at the top: kept out of processes that never render

    with local_file(sha256) as path:
        document = pdfium.PdfDocument(path)
        try:
            for index in range(len(document)):
                page = document[index]
                try:
                    # pdfium rounds the bitmap size up: aim half a pixel short of WIDTH.
                    scale = (WIDTH - 0.5) / max(page.get_width(), 1)
                    image = page.render(scale=scale, grayscale=True).to_pil().convert("L")
                finally:
                    page.close()
                _write_atomically(folder / f"{index + 1}-{WIDTH}.png", image)
        finally:
            document.close()


def _write_atomically(target: Path, image) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            image.save(out, format="PNG")
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise


def forget(sha256s: Iterable[str]) -> int:
    """Forget the thumbnails of these contents (expunged: their pages must not outlive them
    here); returns how many contents had thumbnails."""
    forgotten = 0
    for sha256 in sha256s:
        folder = cache_dir() / sha256[:2] / sha256
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            forgotten += 1
    return forgotten


def prune(max_age_days: int = 30) -> int:
    """Forget thumbnails of contents nobody looked at for `max_age_days` (a part's old pages
    after a QC change, parts long approved), and of every content expunged (one rendered while
    it was being expunged); returns how many contents were forgotten."""
    cutoff = time.time() - max_age_days * 86400
    folders = [folder for folder in cache_dir().glob("*/*") if folder.is_dir()]
    expunged = set(
        Blob.objects.filter(
            pk__in=[folder.name for folder in folders], expunged_at__isnull=False
        ).values_list("sha256", flat=True)
    )
    forgotten = 0
    for folder in folders:
        if folder.name in expunged or folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            forgotten += 1
    return forgotten
