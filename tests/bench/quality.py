"""What the text-quality gate costs against extraction (issue 14's goal: at most 10 %).

Every file of ../shared/corpus (or `--folder DIR`) is extracted as the pipeline's `extract` step
does it: the configured extractor in a sandbox child (the warm zygote, the worker's limits). Then
the gate (`ingest.quality.check`: measure and judge) runs on each extracted text, with the page
count and languages the pipeline would give it, a few times to time it steadily. Printed: the
extraction time, the gate's time and their ratio, the slowest file for the gate, and how many
texts the gate failed, by rule (each failing file is listed with its reason).

    python -m tests.bench.quality [--kind pdf] [--limit N] [--folder DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.bench.ingest import setup_django


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", action="append", help="only corpus files of this kind")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--folder", type=Path, help="files of this folder instead of the corpus")
    parser.add_argument("--repeat", type=int, default=5, help="gate runs per text (timing)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edms-bench-quality-") as tmp:
        setup_django(tmp)
        return run(options, Path(tmp))


def run(options, tmp: Path) -> int:
    from django.conf import settings

    from ingest import quality, tika_metadata
    from ingest.extractors import load
    from ingest.languages import detect_languages
    from ingest.sandbox import SandboxFailure
    from ingest.sandbox import run as sandboxed
    from ingest.stages import limits
    from tests.ingest_support import corpus_files

    if options.folder:
        paths = [(p, p.suffix[1:] or "file") for p in sorted(options.folder.iterdir())]
    else:
        paths = [
            (f.path, f.kind) for f in corpus_files() if not options.kind or f.kind in options.kind
        ]
    paths = paths[: options.limit] if options.limit else paths
    extractor = load(settings.EDMS_EXTRACTOR)
    extract_s = gate_s = 0.0
    slowest = (0.0, "")
    failed: Counter[str] = Counter()
    texts = chars = 0
    for number, (path, kind) in enumerate(paths):
        workdir = tmp / f"job-{number}"
        workdir.mkdir()
        text_path = workdir / "text.txt"
        started = time.perf_counter()
        try:
            found = sandboxed(
                "ingest.extractors:extract_to_file",
                {
                    "path": str(path),
                    "config": settings.EDMS_EXTRACTOR,
                    "max_chars": settings.EDMS_INGEST_MAX_TEXT_CHARS,
                    "text_path": str(text_path),
                },
                limits=limits(),
                workdir=str(workdir),
                warm_up=getattr(extractor, "warm_up", None),
            )
        except SandboxFailure:
            continue  # failed extractions never reach the gate
        extract_s += time.perf_counter() - started
        text = text_path.read_text(encoding="utf-8", errors="replace")
        pages = tika_metadata.page_count(found["metadata"])
        languages = detect_languages(text)
        started = time.perf_counter()
        for _ in range(options.repeat):
            verdict = quality.check(text, page_count=pages, languages=languages)
        spent = (time.perf_counter() - started) / options.repeat
        gate_s += spent
        slowest = max(slowest, (spent, f"{path.name} ({len(text):,} characters)"))
        texts += 1
        chars += len(text)
        if not verdict.ok:
            failed[verdict.rule] += 1
            print(f"  {kind:<10} {path.name}: {verdict.reason}")
    print(f"\n{texts} texts extracted ({chars:,} characters) by {extractor.name}, sandboxed")
    print(f"  extraction:        {extract_s:8.2f} s")
    print(f"  text-quality gate: {gate_s * 1000:8.1f} ms (mean of {options.repeat} runs per text)")
    print(f"  gate / extraction: {gate_s / extract_s * 100:8.2f} %  (goal: at most 10 %)")
    print(f"  slowest gate: {slowest[0] * 1000:.1f} ms on {slowest[1]}")
    print(f"  texts failing the gate: {sum(failed.values())} {dict(failed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
