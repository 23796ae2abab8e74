"""Digitization benchmark (`make bench`): a 200-page batch with 40 cover sheets, from the scanner
until every document is OCR'd and searchable.

Generates the batch as a scanner would write it (300 dpi greyscale JPEG pages without a text
layer, skewed a little, a page upside down here and there, edms's own cover sheets), then
times, in one process on this machine, what the workers do:

1. split and route: render, barcode reading, cutting, storing, filing as held documents;
2. approve every document (the machine's part of quality control, not a person's time);
3. the ingestion pipeline on each version to its last stage (identify, extract, then OCR into a
   searchable PDF/A with the settings' defaults), checking that OCR ran for every version;
4. indexing (`search.indexer.sync`, what the index queue's worker runs), then searching each
   document's own words ("DOC 7 PAGE 1", a phrase no other document holds) as an examiner.

Prints the rates beside what one scanning station produces: 10,000 pages a day.

    python -m tests.bench.scan [--pages 200] [--covers 40]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from edms import localbroker
from tests.bench.search import setup_django

STATION_PAGES_PER_DAY = 10_000
WORKDAY_MINUTES = 8 * 60
STATION_PAGES_PER_MINUTE = STATION_PAGES_PER_DAY / WORKDAY_MINUTES
UPSIDE_DOWN_EVERY = 10  # documents: the second page of every tenth is fed the wrong way round


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.scan", description=__doc__)
    parser.add_argument(
        "--pages", type=int, default=200, help="pages in the batch, sheets included"
    )
    parser.add_argument("--covers", type=int, default=40, help="cover sheets among them")
    parser.add_argument("--tmp-dir", help="where the database and blobs go ($TMPDIR)")
    args = parser.parse_args(argv)
    if args.covers < 1 or args.pages < 2 * args.covers:
        parser.error("every cover sheet needs a page after it: --pages at least twice --covers")
    return args


def label(document: int, page: int) -> str:
    """The heading of a text page: its first page's is a phrase no other document holds.
    Counted from 1: Tesseract reads a lone "0" after capitals as the letter O."""
    return f"DOC {document + 1} PAGE {page + 1}"


def build_batch(pages: int, covers: int, dossiers: list[str]) -> tuple[bytes, int]:
    """The batch as one PDF, and how many of its text pages lie upside down."""
    from tests import scan_support as scan

    per_document = (pages - covers) // covers
    images = []
    upside_down = 0
    for number in range(covers):
        images.append(
            scan.cover(dossiers[number % len(dossiers)], "CLM", dt.date(2020, 1, 2), skew=0.7)
        )
        for page in range(per_document):
            turned = page == 1 and number % UPSIDE_DOWN_EVERY == 0
            upside_down += turned
            skew = (page % 3 - 1) * 0.6
            images.append(scan.text_page(label(number, page), skew=skew, upside_down=turned))
    while len(images) < pages:
        images.append(scan.text_page(f"EXTRA {len(images)}"))
    return scan.batch_pdf(images), upside_down


def step_seconds(version_ids: list[int]) -> str:
    """Where the pipeline's time went, summed over the versions, step by step."""
    from ingest.models import Processing

    spent: dict[str, float] = {}
    for processing in Processing.objects.filter(version_id__in=version_ids):
        for step in processing.steps:
            spent[step["name"]] = spent.get(step["name"], 0.0) + step["ms"] / 1000
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in spent.items())


def ocr_outcome(version_id: int) -> tuple[bool, int, int]:
    """Whether OCR ran to the end for the version (a PDF/A rendition and text from it), and how
    many pages it read and turned upright."""
    from dossier.models import Rendition, RenditionKind
    from ingest.models import Processing, Stage, State

    processing = Processing.objects.get(version_id=version_id)
    steps = {s["name"]: s for s in processing.steps}
    ocr = steps.get("ocr", {})
    done = (
        processing.state == State.DONE
        and processing.stage == Stage.OCR
        and ocr.get("state") == "done"
        and bool(processing.text_chars)
        and Rendition.objects.filter(version_id=version_id, kind=RenditionKind.PDFA).exists()
    )
    turned = re.search(r"; (\d+) turned upright", ocr.get("detail", ""))
    return done, processing.page_count or 0, int(turned.group(1)) if turned else 0


def rate(pages: int, seconds: float) -> float:
    return pages / seconds * 60 if seconds else 0.0


@dataclass
class Timings:
    split_s: float = 0.0
    approve_s: float = 0.0
    ocr_s: float = 0.0
    index_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.split_s + self.approve_s + self.ocr_s + self.index_s


def split_and_approve(content: bytes, timings: Timings) -> tuple[list, int]:
    """Split and route the batch, approve every routed part; the parts, and how many were
    left unassigned."""
    from dossier import blobstore
    from dossier.audit import Actor
    from scanning import qc, splitting

    actor = Actor(label="bench")
    staged = blobstore.spool([content], filename="bench.pdf")
    batch = splitting.submit_batch(staged, actor=actor, station="bench")
    started = time.perf_counter()
    batch = splitting.split_batch(batch.id)
    timings.split_s = time.perf_counter() - started
    parts = list(batch.parts.order_by("index"))
    routed = [part for part in parts if part.document_id]
    started = time.perf_counter()
    for part in routed:
        qc.approve(part, actor=actor)
    timings.approve_s = time.perf_counter() - started
    unassigned = [part for part in parts if part.state == "unassigned"]
    return routed, len(unassigned)


def process_all(routed: list, timings: Timings) -> list[int]:
    """What the extract and OCR queues' workers do, one version after the other; then the
    index queue's worker (every event since its cursor). Returns the version ids."""
    from dossier.models import Version
    from ingest import pipeline
    from search import indexer

    versions = [Version.objects.get(document_id=part.document_id, number=1) for part in routed]
    started = time.perf_counter()
    for version in versions:
        pipeline.request_processing(version)
        pipeline.run_to_completion(version.id)
    timings.ocr_s = time.perf_counter() - started
    started = time.perf_counter()
    indexer.sync()
    timings.index_s = time.perf_counter() - started
    return [version.id for version in versions]


def not_found(routed: list, per_document: int) -> list[str]:
    """The phrases of the documents an examiner's search does not find (alone)."""
    from dossier.roles import Role
    from search import find
    from tests.factories import UserFactory

    examiner = UserFactory(username="bench-examiner", role=Role.EXAMINER)
    missing = []
    for part in routed:
        # The part's first page (1-based in the batch) says which cover sheet started it.
        number = (part.source_pages[0] - 1) // (per_document + 1)
        phrase = f'"{label(number, 0)}"'
        hits = find.find_documents(examiner, find.Criteria(q=phrase))["results"]
        if [hit["document"] for hit in hits] != [str(part.document_id)]:
            missing.append(phrase)
    return missing


def describe_ocr_options() -> str:
    from ingest.renditions import ocr_preprocessing

    options, left_out = ocr_preprocessing()
    on = [name for name in ("rotate_pages", "deskew", "clean", "clean_final") if options[name]]
    if options["rotate_pages"]:
        on[0] += f" (threshold {options['rotate_pages_threshold']})"
    return (", ".join(on) or "none") + "".join(f"; {note}" for note in left_out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    per_document = (args.pages - args.covers) // args.covers
    with (
        tempfile.TemporaryDirectory(dir=args.tmp_dir, prefix="edms-scan-bench-") as tmp,
        localbroker.running(Path(tmp)),
    ):
        setup_django(Path(tmp))
        from tests.conftest import create_dossier

        dossiers = [f"BG/P/2020/{number:06d}" for number in range(1, 11)]
        for key in dossiers:
            create_dossier(key)
        started = time.perf_counter()
        content, upside_down = build_batch(args.pages, args.covers, dossiers)
        print(
            f"generated a {args.pages}-page batch ({len(content) / 1024**2:.1f} MiB, "
            f"{upside_down} text pages upside down) in {time.perf_counter() - started:.1f} s"
        )
        print(f"OCR options: {describe_ocr_options()}")
        timings = Timings()
        routed, unassigned = split_and_approve(content, timings)
        version_ids = process_all(routed, timings)
        outcomes = [ocr_outcome(version_id) for version_id in version_ids]
        ocred = sum(done for done, _, _ in outcomes)
        ocr_pages = sum(pages for done, pages, _ in outcomes if done)
        turned = sum(turned for _, _, turned in outcomes)
        missing = not_found(routed, per_document)
        by_step = step_seconds(version_ids)

    split_rate = rate(args.pages, timings.split_s)
    worker_rate = rate(ocr_pages, timings.ocr_s + timings.index_s)
    total_rate = rate(args.pages, timings.total_s)
    station = STATION_PAGES_PER_MINUTE
    print(f"{len(routed)} documents routed and approved, {unassigned} parts unassigned")
    print(f"split and route:      {timings.split_s:7.1f} s  ({split_rate:,.0f} pages/min)")
    print(f"approve all (QC):     {timings.approve_s:7.1f} s  (the machine's part, not a person's)")
    print(
        f"ingestion pipeline:   {timings.ocr_s:7.1f} s  "
        f"({rate(ocr_pages, timings.ocr_s):,.1f} pages/min)"
    )
    print(
        f"  {ocred}/{len(version_ids)} versions OCR'd into a PDF/A with text ({ocr_pages} pages); "
        f"{turned}/{upside_down} upside-down pages turned upright"
    )
    print(f"  by step: {by_step}")
    print(f"indexing:             {timings.index_s:7.1f} s")
    print(
        f"OCR + index:          {timings.ocr_s + timings.index_s:7.1f} s  "
        f"({worker_rate:,.1f} pages/min)"
    )
    print(
        f"batch to searchable:  {timings.total_s:7.1f} s  ({total_rate:,.1f} pages/min, sheets "
        f"included); "
        f"{len(routed) - len(missing)}/{len(routed)} documents found by their own words"
        + (f" (not found: {', '.join(missing)})" if missing else "")
    )
    print(
        f"one scanning station: {STATION_PAGES_PER_DAY:,} pages/day = {station:.1f} pages/min "
        "over 8 h"
    )
    print(
        f"one worker process keeps up with: {split_rate / station:,.0f} stations splitting, "
        f"{worker_rate / station:.2f} OCR'ing and indexing, {total_rate / station:.2f} all the "
        f"way to searchable (OCR reads one page at a time per process; this machine has "
        f"{os.cpu_count()} CPUs)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
