"""Scan parts move as files: quality control on a large part never holds the part in memory.

Measured with tracemalloc, which counts Python's own allocations (every `bytes`, `BytesIO` and
chunk), not pikepdf's or pdfium's C++ ones; reading a part into `bytes` or saving it into a
`BytesIO` would show here as a peak the size of the part. It is the same in every process,
whatever ran before, unlike the process's peak RSS.
"""

from __future__ import annotations

import datetime as dt
import random
import tracemalloc

import pytest
from PIL import Image

from dossier.audit import Actor
from dossier.models import DocumentType
from scanning import qc
from scanning.models import ScanPart
from tests import scan_support as scan
from tests.conftest import create_dossier

D1 = "BG/P/2024/000123"
PAGES = 30
MiB = 1024 * 1024


def noise_page(seed: int) -> Image.Image:
    """A page JPEG cannot shrink: some 0.8 MB in the PDF, like a 300 dpi greyscale scan."""
    return Image.frombytes("L", (1200, 1200), random.Random(seed).randbytes(1200 * 1200))


@pytest.fixture
def large_batch(db):
    create_dossier(D1)
    pages = [noise_page(seed) for seed in range(PAGES)]
    routed = [scan.cover(D1, "CLM", dt.date(2024, 5, 6)), *pages]
    unassigned = [scan.smudged(scan.cover(D1, "ABST"))]
    unassigned += [noise_page(seed) for seed in range(PAGES, PAGES + PAGES // 2)]
    return scan.split_now(scan.batch_pdf(routed + unassigned))


def peak_of(operation) -> int:
    """The peak of Python allocations while `operation` runs, above what was allocated before."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        operation()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def test_quality_control_of_a_large_part_keeps_it_out_of_memory(large_batch, tmp_path):
    actor = Actor(label="rico")
    part, unassigned = ScanPart.objects.filter(batch=large_batch).order_by("index")
    size = part.content.size
    assert part.page_count == PAGES and size > 20 * MiB
    assert unassigned.content.size > 10 * MiB
    rescan = tmp_path / "rescan.png"
    scan.text_page("RESCAN").save(rescan, dpi=(300, 300))
    claims = DocumentType.objects.get(code="CLM")
    dossier = part.document.dossier

    peaks = {
        "rotate": peak_of(lambda: qc.rotate_pages(part, [1, PAGES], 90, actor=actor)),
        "move": peak_of(lambda: qc.move_page(part, 1, PAGES, actor=actor)),
        "replace": peak_of(lambda: qc.replace_page(part, 2, rescan, actor=actor)),
        "split": peak_of(lambda: qc.split_part(part, PAGES // 2, actor=actor)),
        "assign": peak_of(
            lambda: qc.assign(unassigned, dossier=dossier, doc_type=claims, actor=actor)
        ),
    }
    tail = ScanPart.objects.get(batch=large_batch, index=2)
    peaks["merge"] = peak_of(lambda: qc.merge_parts(part, tail, actor=actor))

    part.refresh_from_db()
    assert part.page_count == PAGES and part.document.latest_version == 6
    # A few chunks at a time: 1 MiB ones (about 2 MiB in all on a filesystem store), and on S3
    # boto3's multipart upload (about 6 MiB for this part). Reading the 20+ MiB part into
    # `bytes` and saving it into a `BytesIO`, as this code once did, peaked at 50 MiB.
    assert max(peaks.values()) < 8 * MiB, {name: peak // 1024 for name, peak in peaks.items()}
