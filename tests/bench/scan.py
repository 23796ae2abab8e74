"""Digitization benchmark (`make bench`): a 200-page batch with 40 cover sheets.

Generates the batch as a scanner would write it (300 dpi greyscale JPEG pages, skewed a little,
edms's own cover sheets), then times, in one process on this machine: splitting and routing
(render, barcode reading, cutting, storing, filing as held documents), approving every document,
and running the ingestion pipeline on each approved version (identify, extract; OCR where the
pipeline has it). Prints pages per minute next to what one scanning station produces a day.

    python -m tests.bench.scan [--pages 200] [--covers 40]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.search import setup_django

STATION_PAGES_PER_DAY = 10_000
WORKDAY_MINUTES = 8 * 60


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.scan", description=__doc__)
    parser.add_argument(
        "--pages", type=int, default=200, help="pages in the batch, sheets included"
    )
    parser.add_argument("--covers", type=int, default=40, help="cover sheets among them")
    parser.add_argument("--tmp-dir", help="where the database and blobs go ($TMPDIR)")
    return parser.parse_args(argv)


def build_batch(pages: int, covers: int, dossiers: list[str]) -> bytes:
    from tests import scan_support as scan

    per_document = (pages - covers) // covers
    images = []
    for number in range(covers):
        images.append(
            scan.cover(dossiers[number % len(dossiers)], "CLM", dt.date(2020, 1, 2), skew=0.7)
        )
        for page in range(per_document):
            images.append(scan.text_page(f"DOC {number} PAGE {page}", skew=(page % 3 - 1) * 0.6))
    while len(images) < pages:
        images.append(scan.text_page(f"EXTRA {len(images)}"))
    return scan.batch_pdf(images)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    with tempfile.TemporaryDirectory(dir=args.tmp_dir, prefix="edms-scan-bench-") as tmp:
        setup_django(Path(tmp))
        from dossier import blobstore
        from dossier.audit import Actor
        from dossier.models import Version
        from ingest import pipeline
        from ingest.scanning import qc, splitting
        from tests.conftest import create_dossier

        dossiers = [f"BG/P/2020/{number:06d}" for number in range(1, 11)]
        for key in dossiers:
            create_dossier(key)
        started = time.perf_counter()
        content = build_batch(args.pages, args.covers, dossiers)
        print(
            f"generated a {args.pages}-page batch ({len(content) / 1024**2:.1f} MiB) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        actor = Actor(label="bench")
        staged = blobstore.spool([content], filename="bench.pdf")
        batch = splitting.submit_batch(staged, actor=actor, station="bench")

        started = time.perf_counter()
        batch = splitting.split_batch(batch.id)
        split_s = time.perf_counter() - started
        parts = list(batch.parts.order_by("index"))
        routed = [p for p in parts if p.document_id]

        started = time.perf_counter()
        for part in routed:
            qc.approve(part, actor=actor)
        approve_s = time.perf_counter() - started

        started = time.perf_counter()
        for part in routed:
            version = Version.objects.get(document_id=part.document_id, number=1)
            pipeline.request_processing(version)
            pipeline.process_version(version.id)
        ingest_s = time.perf_counter() - started

        pages_per_min = args.pages / split_s * 60
        station_rate = STATION_PAGES_PER_DAY / WORKDAY_MINUTES
        total_s = split_s + approve_s + ingest_s
        print(
            f"state {batch.state}: {len(routed)} documents, {len(parts) - len(routed)} unassigned"
        )
        print(f"split and route:      {split_s:6.1f} s  ({pages_per_min:,.0f} pages/min)")
        print(f"approve all (QC):     {approve_s:6.1f} s")
        print(f"ingestion pipeline:   {ingest_s:6.1f} s  (identify + extract per document)")
        print(
            f"batch to processed:   {total_s:6.1f} s  ({args.pages / total_s * 60:,.0f} pages/min)"
        )
        print(
            f"one scanning station: {STATION_PAGES_PER_DAY:,} pages/day = {station_rate:.0f} "
            f"pages/min over 8 h; splitting keeps up with {pages_per_min / station_rate:.0f} "
            "stations per worker process"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
