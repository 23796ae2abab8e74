"""Vector-index writes benchmark (issue 20): what one embedding task costs when the index already
holds `--chunks` passages, and how long saving the index file takes at that size.

Synthetic chunks (random unit vectors, two per document, rows in the database as bulk inserts)
fill the index first; then `--tasks` real documents, each with a short text, are embedded one
after the other through `similarity.embedding.embed_document`, as the `similarity` worker runs
its tasks, and each task's wall time is printed (median, p95), then the time of writing the
file (`vectorindex.flush`, where there is one).

    python -m tests.bench.vector_index [--chunks 50000] [--tasks 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from edms import localbroker
from tests.bench.search import percentile, setup_django


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=50_000)
    parser.add_argument("--tasks", type=int, default=30)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--tmp-dir", default=None)
    return parser.parse_args(argv)


def fill(count: int, rng: np.random.Generator) -> float:
    """`count` synthetic chunks in the database and the index file; seconds the file took."""
    from dossier.models import Document, DocumentType
    from similarity import vectorindex
    from similarity.embedder import DIMENSIONS
    from similarity.models import Chunk
    from tests.conftest import create_dossier

    dossier = create_dossier("BG/P/2019/1", title="Synthetic")
    doc_type = DocumentType.objects.get(code="DESC")
    batch = 5000
    for first in range(0, count, batch):
        n = min(batch, count - first)
        documents = Document.objects.bulk_create(
            Document(dossier=dossier, doc_type=doc_type, direction="in", visibility="public")
            for _ in range((n + 1) // 2)
        )
        vectors = rng.standard_normal((n, DIMENSIONS)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        Chunk.objects.bulk_create(
            Chunk(
                document=documents[i // 2],
                ordinal=i % 2,
                start=0,
                end=0,
                passage="synthetic",
                vector=vectors[i].tobytes(),
            )
            for i in range(n)
        )
    started = time.perf_counter()
    vectorindex.rebuild()
    return time.perf_counter() - started


def tasks(count: int) -> list[float]:
    """Seconds of wall time of each of `count` embedding tasks of a new document."""
    from similarity import embedding
    from tests.conftest import create_dossier, file_document
    from tests.search_support import give_text

    dossier = create_dossier("BG/P/2019/2", title="Real")
    documents = []
    for n in range(count):
        document = file_document(dossier)
        give_text(document, f"A gearbox number {n} with helical gears and an oil pump. " * 20)
        documents.append(document)
    seconds = []
    for document in documents:
        started = time.perf_counter()
        embedding.embed_document(str(document.id))
        seconds.append(time.perf_counter() - started)
    return seconds


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=args.tmp_dir)))
        stack.enter_context(localbroker.running(tmp))
        setup_django(tmp)
        from similarity import vectorindex

        built = fill(args.chunks, np.random.default_rng(args.seed))
        size = (vectorindex.directory() / vectorindex.FILE_NAME).stat().st_size
        print(f"index: {args.chunks} chunks, file {size / 2**20:.0f} MiB, built in {built:.1f} s")
        seconds = [s * 1000 for s in tasks(args.tasks)]
        print(
            f"embedding task at {args.chunks} chunks, {len(seconds)} tasks: median "
            f"{statistics.median(seconds):.0f} ms, p95 {percentile(seconds, 0.95):.0f} ms, "
            f"max {max(seconds):.0f} ms"
        )
        flush = getattr(vectorindex, "flush", None)
        if flush is not None:
            started = time.perf_counter()
            flush()
            seconds = time.perf_counter() - started
            print(f"saving the file (at most every few seconds): {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
