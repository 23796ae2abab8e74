"""What hashing every page costs processing (issue 20, point 2): the corpus's PDFs (born-digital),
its patent PDFs (scans) and its raster images, each hashed page by page as the render stage does
(`ingest.page_hashing`, in this process: the sandbox adds one fork per version, not per page),
against rendering the first-page thumbnail it already makes. Also how far page 1's hash is from
the hash of the thumbnail (what versions processed before pages were hashed are compared by).
It prints figures; it asserts nothing.

    python -m tests.bench.page_hashes [--corpus /work/shared/corpus] [--max-pages 300]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from PIL import Image

from dossier.page_hashes import page_hash
from ingest import render
from ingest.extractors.base import ExtractionFailed
from ingest.page_hashing import page_hashes
from similarity import perceptual

THUMBNAIL_WIDTH = 320  # EDMS_THUMBNAIL_WIDTH's default


MEDIA_TYPES = {
    ".pdf": render.PDF_MEDIA_TYPE,
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


def measure(path: Path, max_pages: int, workdir: Path) -> dict | None:
    thumbnail = workdir / "thumbnail.png"
    media_type = MEDIA_TYPES[path.suffix.lower()]
    try:
        started = time.perf_counter()
        render.thumbnail(
            path=str(path), media_type=media_type, output_path=str(thumbnail), width=THUMBNAIL_WIDTH
        )
        thumbnail_s = time.perf_counter() - started
        started = time.perf_counter()
        found = page_hashes(path=str(path), media_type=media_type, max_pages=max_pages)
        hashes_s = time.perf_counter() - started
    except ExtractionFailed:
        return None
    with Image.open(thumbnail) as image:
        old = page_hash(image)
    first = found["hashes"][0] if found["hashes"] else None
    apart = perceptual.distance(old, first) if old and first else None
    return {
        "pages": len(found["hashes"]),
        "per_page_ms": 1000 * hashes_s / max(len(found["hashes"]), 1),
        "thumbnail_ms": 1000 * thumbnail_s,
        "apart": apart,
    }


def report(label: str, rows: list[dict]) -> None:
    if not rows:
        print(f"{label}: none")
        return
    pages = sum(row["pages"] for row in rows)
    per_page = [row["per_page_ms"] for row in rows]
    apart = [row["apart"] for row in rows if row["apart"] is not None]
    print(
        f"{label}: {len(rows)} files, {pages} pages; hashing per page "
        f"median {statistics.median(per_page):.1f} ms, max {max(per_page):.1f} ms, "
        f"total {sum(r['per_page_ms'] * r['pages'] for r in rows) / 1000:.2f} s; "
        f"thumbnail per file median {statistics.median(r['thumbnail_ms'] for r in rows):.1f} ms"
    )
    if apart:
        print(
            f"  page 1's hash vs the thumbnail's: median {statistics.median(apart)} bits, "
            f"max {max(apart)} (duplicate threshold: 20)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus"))
    parser.add_argument("--max-pages", type=int, default=300)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-page-hashes"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    for label, folder in (
        ("born-digital PDFs", "pdf"),
        ("scanned patent PDFs", "patent"),
        ("raster images", "image"),
    ):
        rows = []
        for path in sorted((args.corpus / folder).iterdir()):
            if path.suffix.lower() not in MEDIA_TYPES:
                continue
            row = measure(path, args.max_pages, args.workdir)
            if row is not None:
                rows.append(row)
        report(label, rows)


if __name__ == "__main__":
    main()
