"""Ingestion benchmark (`make bench`): the corpus through the whole pipeline, with references.

Every file of ../shared/corpus is filed as a new version (through the action, as the API does)
and run through every stage of the pipeline in this process, exactly as a Celery worker runs
them (sandboxed identify/extract/OCR/render children included; the broker hop is not counted).
Printed:

- documents/s and pages/s end to end (commit → text stored, renditions made), per corpus kind;
- the pipeline's overhead: its extraction stage against calling the extractor directly, in this
  process and without a sandbox, on the same files (those the pipeline processed successfully:
  hostile files are not run unprotected);
- OCR pages/s against running the `ocrmypdf` command directly on the same files with the same
  options;
- the text-quality gate's cost (issue 14's goal: at most 10 % of extraction): the gate
  (`ingest.quality.check`, as `judge_text` calls it) timed again on each stored text, against
  the step that read it (the sandboxed `extract` step; the `ocr` step for OCR'd texts), and how
  many texts it warns about, by rule;
- peak RSS of the worker (this process) and of the worker with its sandbox children, sampled
  every 20 ms.

With `--tika-server` (a Tika server started with infra/tika-server.sh for the run, stopped
afterwards) or `--tika-server-url URL` (`EDMS_BENCH_TIKA_SERVER_URL`) the same files go through
the pipeline a second time with the Tika server extractor (what `TIKA_SERVER_URL` selects), and
documents/s and pages/s per kind are printed side by side with the ratio (and the server's peak
RSS, when the run started it).

    python -m tests.bench.ingest [--kind pdf --kind office] [--limit N] [--folder DIR]
        [--tmp-dir DIR] [--tika-server | --tika-server-url URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from edms import localbroker
from tests.bench import services

MIB = 1024 * 1024


@dataclass
class Outcome:
    name: str
    kind: str
    path: Path
    state: str = ""
    stage: str = ""
    pages: int = 0
    extract_s: float = 0.0
    searchable_s: float = 0.0  # commit → done: text stored, `document.processed` announced
    total_s: float = 0.0
    ocr_ms: int = 0
    media_type: str = ""
    extract_step_ms: int = 0
    version_id: int = 0


@dataclass
class RssSampler:
    """Peak RSS of this process alone and with all its descendants (the sandbox children)."""

    interval_s: float = 0.02
    server: services.Service | None = None  # a server process to sample too (its own tree)
    peak_self: int = 0
    peak_tree: int = 0
    peak_server: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = psutil.Process(os.getpid())
        while not self._stop.wait(self.interval_s):
            try:
                own = me.memory_info().rss
                tree = own + sum(_rss(child) for child in me.children(recursive=True))
            except psutil.Error:
                continue
            self.peak_self = max(self.peak_self, own)
            self.peak_tree = max(self.peak_tree, tree)
            if self.server is not None:
                self.peak_server = max(self.peak_server, self.server.rss())


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


def setup_django(data_dir: str) -> None:
    """A fresh embedded installation (SQLite, filesystem blobs) in `data_dir`."""
    for name in list(os.environ):
        if name.startswith(("EDMS_", "DATABASE_URL", "CELERY_", "AWS_", "TIKA_", "OPENSEARCH_")):
            del os.environ[name]
    os.environ["EDMS_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "edms.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def run_pipeline(files, dossier_key: str) -> list[Outcome]:
    from ingest.models import Processing, Stage, State
    from ingest.pipeline import make_renditions, process_version
    from tests.conftest import create_dossier
    from tests.ingest_support import file_version

    dossier = create_dossier(dossier_key)
    outcomes = []
    for corpus in files:
        version = file_version(dossier, corpus.path.read_bytes(), corpus.name)
        started = time.perf_counter()
        processing = process_version(version.id)
        extracted = time.perf_counter()
        while processing is not None and processing.state == State.PENDING:
            processing = process_version(version.id, stage=processing.stage)
        searchable = time.perf_counter()
        make_renditions(version.id)  # after "done" (searchable), on the render queue
        finished = time.perf_counter()
        processing = Processing.objects.get(version=version)
        ocr_ms = sum(s["ms"] for s in processing.steps if s["name"] == "ocr")
        extract_ms = sum(s["ms"] for s in processing.steps if s["name"] == "extract")
        outcomes.append(
            Outcome(
                name=corpus.name,
                kind=corpus.kind,
                path=corpus.path,
                state=processing.state,
                stage=processing.stage if processing.stage != Stage.EXTRACT else "",
                pages=processing.page_count or 1,
                extract_s=extracted - started,
                searchable_s=searchable - started,
                total_s=finished - started,
                ocr_ms=ocr_ms if processing.state == State.DONE else 0,
                media_type=processing.media_type,
                extract_step_ms=extract_ms,
                version_id=version.id,
            )
        )
    return outcomes


def by_kind(outcomes: list[Outcome]) -> list[tuple[str, list[Outcome]]]:
    per_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        per_kind[outcome.kind].append(outcome)
    return [*sorted(per_kind.items()), ("all", outcomes)]


def print_end_to_end(outcomes: list[Outcome]) -> None:
    print("\nend to end (commit → text stored, renditions made), in a worker process")
    print(
        f"{'kind':<10} {'files':>5} {'done':>5} {'pages':>6} {'seconds':>8} {'docs/s':>7} "
        f"{'pages/s':>8}"
    )
    rows = by_kind(outcomes)
    for kind, group in rows:
        seconds = sum(o.total_s for o in group)
        pages = sum(o.pages for o in group)
        done = sum(o.state == "done" for o in group)
        print(
            f"{kind:<10} {len(group):>5} {done:>5} {pages:>6} {seconds:>8.1f} "
            f"{len(group) / seconds:>7.2f} {pages / seconds:>8.2f}"
        )
    print("\nper file, median (commit → done and searchable; → renditions made too)")
    for kind, group in rows:
        searchable_ms = statistics.median(o.searchable_s for o in group) * 1000
        total_ms = statistics.median(o.total_s for o in group) * 1000
        print(f"  {kind:<10} {searchable_ms:7.0f} ms searchable  {total_ms:7.0f} ms in all")
    by_stage: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_stage[outcome.stage or "extract only"].append(outcome)
    print("\nby the last stage a version needed")
    for stage, group in sorted(by_stage.items()):
        seconds = sum(o.total_s for o in group)
        print(f"  {stage:<13} {len(group):>4} files  {seconds / len(group):>6.2f} s/file")


def direct_extraction(outcomes: list[Outcome]) -> None:
    """The configured extractor called in this process on the files the pipeline extracted."""
    from django.conf import settings

    from ingest.extractors import ExtractionFailed, load

    extractor = load(settings.EDMS_EXTRACTOR)
    chosen = [o for o in outcomes if o.state == "done"]
    direct_s = 0.0
    for outcome in chosen:
        started = time.perf_counter()
        try:
            extractor.extract(str(outcome.path), max_chars=settings.EDMS_INGEST_MAX_TEXT_CHARS)
        except ExtractionFailed:
            pass
        direct_s += time.perf_counter() - started
    pipeline_s = sum(o.extract_s for o in chosen)
    print(f"\npipeline overhead on {len(chosen)} files the pipeline processed")
    print(
        f"  extraction stage (fetch, identify, extract, plan; sandboxed):            "
        f"{pipeline_s:.1f} s"
    )
    print(
        f"  {extractor.name} called directly, in process, no sandbox:               "
        f"{direct_s:.1f} s"
    )
    per_file_ms = (pipeline_s - direct_s) / len(chosen) * 1000
    print(f"  ratio: {pipeline_s / direct_s:.2f}x  ({per_file_ms:.0f} ms more per file)")


def ocrmypdf_command(source: Path, output: Path, sidecar: Path, *, image: bool = False) -> list:
    """The `ocrmypdf` command with the options the pipeline's OCR step uses (settings included)."""
    from django.conf import settings

    from ingest.renditions import ocr_preprocessing

    options, _ = ocr_preprocessing()
    flags = ("rotate_pages", "deskew", "clean", "clean_final")
    preprocessing = [f"--{name.replace('_', '-')}" for name in flags if options[name]]
    if options["rotate_pages"]:
        preprocessing += ["--rotate-pages-threshold", str(options["rotate_pages_threshold"])]
    command = [
        # The `ocrmypdf` command lowers its own priority by 5 (its __main__); edms calls its API,
        # at normal priority. Started 5 higher (only root may raise a priority), it runs at the
        # pipeline's priority, so a busy machine does not count against it.
        *(["nice", "-n", "-5"] if os.geteuid() == 0 else []),
        str(Path(sys.executable).parent / "ocrmypdf"),
        "--quiet",
        "--output-type",
        "pdfa",
        "--pdfa-backend",
        "internal",
        "--jobs",
        "1",
        "-l",
        settings.EDMS_OCR_LANGUAGES,
        "--sidecar",
        str(sidecar),
        *preprocessing,
    ]
    command += ["--image-dpi", "300"] if image else ["--skip-text"]
    return [*command, str(source), str(output)]


def direct_ocr(outcomes: list[Outcome], workdir: Path) -> None:
    """`ocrmypdf` run directly (same options as the pipeline) on the files the pipeline OCR'd."""

    ocred = [o for o in outcomes if o.ocr_ms]
    if not ocred:
        print("\nOCR: no file was OCR'd (is Tesseract installed?)")
        return
    direct_s = 0.0
    for number, outcome in enumerate(ocred):
        command = ocrmypdf_command(
            outcome.path,
            workdir / f"direct-{number}.pdf",
            workdir / f"direct-{number}.txt",
            image=outcome.media_type.startswith("image/"),
        )
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        direct_s += time.perf_counter() - started
    pages = sum(o.pages for o in ocred)
    pipeline_s = sum(o.ocr_ms for o in ocred) / 1000
    print(f"\nOCR on {len(ocred)} files, {pages} pages")
    print(
        f"  pipeline OCR step (sandboxed OCRmyPDF):  {pipeline_s:6.1f} s  "
        f"{pages / pipeline_s:5.2f} pages/s"
    )
    print(
        f"  ocrmypdf command, same options:           {direct_s:6.1f} s  "
        f"{pages / direct_s:5.2f} pages/s"
    )


GATE_REPEAT = 5  # runs per text: a gate run on a short text takes microseconds


def gate_cost(outcomes: list[Outcome]) -> None:
    """The text-quality gate timed on each done version's stored text, with the page count and
    languages the pipeline gave it, against the step that read that text."""
    from dossier import blobstore
    from ingest import quality
    from ingest.models import Processing

    rows = {"extracted": [0, 0.0, 0.0], "OCR'd": [0, 0.0, 0.0]}  # texts, gate s, step s
    failed: dict[str, int] = defaultdict(int)
    slowest = (0.0, "")
    for outcome in outcomes:
        processing = Processing.objects.select_related("version__document").get(
            version_id=outcome.version_id
        )
        if outcome.state != "done" or processing.text_id is None:
            continue
        text = b"".join(blobstore.read_chunks(processing.text_id)).decode("utf-8", "replace")
        declared = processing.version.document.language
        ocred = bool(outcome.ocr_ms)
        started = time.perf_counter()
        for _ in range(GATE_REPEAT):
            verdict = quality.check(
                text,
                page_count=processing.page_count,
                languages=processing.languages or ([declared] if declared else []),
                ocr=ocred,
            )
        spent = (time.perf_counter() - started) / GATE_REPEAT
        row = rows["OCR'd" if ocred else "extracted"]
        row[0] += 1
        row[1] += spent
        row[2] += (outcome.ocr_ms if ocred else outcome.extract_step_ms) / 1000
        slowest = max(slowest, (spent, f"{outcome.name} ({len(text):,} characters)"))
        if not verdict.ok:
            failed[verdict.rule] += 1
    print(
        f"\ntext-quality gate (mean of {GATE_REPEAT} runs per text), against the step that read it"
    )
    for what, (texts, gate_s, step_s) in rows.items():
        if texts:
            step = "extract" if what == "extracted" else "ocr"
            print(
                f"  {texts:>4} {what + ' texts:':<16} gate {gate_s * 1000:8.1f} ms, "
                f"{step} steps {step_s:7.1f} s: {gate_s / step_s * 100:6.2f} %"
            )
    texts, gate_s, step_s = rows["extracted"]
    if texts:
        share = gate_s / step_s * 100
        print(f"  gate / extraction: {share:.2f} %  (goal: at most 10 %)")
        print(f"  slowest gate: {slowest[0] * 1000:.1f} ms on {slowest[1]}")
    print(f"  texts the gate warns about: {sum(failed.values())} {dict(failed)}")


def print_machine() -> None:
    cpu = platform.processor() or platform.machine()
    print(
        f"edms ingestion benchmark — {platform.node()}, {cpu}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    for program in ("tesseract", "gs", "soffice"):
        print(f"  {program}: {shutil.which(program) or 'not installed'}")


def print_rss(sampler: RssSampler, *, server: bool) -> None:
    rows = [
        ("the worker process", sampler.peak_self),
        ("the worker with sandbox children", sampler.peak_tree),
        *([("the Tika server (its JVMs)", sampler.peak_server)] if server else []),
    ]
    print()
    for what, peak in rows:
        print(f"peak RSS of {what + ':':<34} {peak / MIB:7.0f} MiB")


EXTRACTORS = {
    "embedded": lambda url: {"BACKEND": "ingest.extractors.embedded.Extractor", "OPTIONS": {}},
    "tika-server": lambda url: {
        "BACKEND": "ingest.extractors.tika_server.Extractor",
        "OPTIONS": {"url": url},
    },
}


def print_side_by_side(results: dict[str, list[Outcome]]) -> None:
    """docs/s and pages/s per kind for each extractor, end to end, and the ratio of the second
    to the first; then the extraction stage alone (where the extractors differ)."""
    names = list(results)
    grouped = {name: dict(by_kind(outcomes)) for name, outcomes in results.items()}
    kinds = list(grouped[names[0]])
    print("\n== side by side, end to end (" + " | ".join(names) + ")")
    print(
        f"{'kind':<10} {'files':>5} "
        + " ".join(f"{'done':>5} {'docs/s':>7} {'pages/s':>8}" for _ in names)
        + f" {'ratio':>6}  {'extract s':>9} {'ratio':>6}"
    )
    for kind in kinds:
        cells, rates, extracting = [], [], []
        for name in names:
            group = grouped[name][kind]
            seconds = sum(o.total_s for o in group)
            done = sum(o.state == "done" for o in group)
            pages = sum(o.pages for o in group)
            rates.append(len(group) / seconds)
            extracting.append(sum(o.extract_s for o in group))
            cells.append(f"{done:>5} {rates[-1]:>7.2f} {pages / seconds:>8.2f}")
        ratio = f"{rates[-1] / rates[0]:>5.2f}x" if len(names) > 1 else ""
        stage = " / ".join(f"{x:.1f}" for x in extracting)
        stage_ratio = f"{extracting[0] / extracting[-1]:>5.2f}x" if len(names) > 1 else ""
        print(
            f"{kind:<10} {len(grouped[names[0]][kind]):>5} "
            + " ".join(cells)
            + f" {ratio:>6}  {stage:>9} {stage_ratio:>6}"
        )
    print(
        "ratio: the second's docs/s over the first's; extract s: the extraction stage's seconds "
        "(fetch, identify, extract, plan), its ratio the first's time over the second's"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.ingest", description=__doc__)
    parser.add_argument("--kind", action="append", help="only corpus files of this kind")
    parser.add_argument("--limit", type=int, help="at most this many files")
    parser.add_argument(
        "--folder",
        type=Path,
        help="the files of this folder instead of the corpus (e.g. the one-page PDFs that "
        "../shared/peers/mayan/mkpdfs.py writes)",
    )
    parser.add_argument("--tmp-dir", help="where the data directory goes ($TMPDIR)")
    parser.add_argument(
        "--tika-server",
        action="store_true",
        help="also with a Tika server started for the run (infra/tika-server.sh)",
    )
    parser.add_argument(
        "--tika-server-url",
        default=os.environ.get("EDMS_BENCH_TIKA_SERVER_URL", ""),
        help="also with the Tika server at this URL (EDMS_BENCH_TIKA_SERVER_URL)",
    )
    options = parser.parse_args(argv)

    print_machine()
    with ExitStack() as stack:
        tmp = stack.enter_context(
            tempfile.TemporaryDirectory(prefix="edms-bench-ingest-", dir=options.tmp_dir)
        )
        server = services.Service(options.tika_server_url) if options.tika_server_url else None
        if options.tika_server and server is None:
            server = stack.enter_context(services.tika_server(Path(tmp) / "tika-server"))
        stack.enter_context(localbroker.running(Path(tmp)))
        setup_django(tmp)
        from django.conf import settings

        from tests.ingest_support import CorpusFile, corpus_files

        if options.folder:
            found = sorted(p for p in options.folder.iterdir() if p.is_file())
            files = [CorpusFile("", p.suffix[1:], p.suffix[1:] or "file", p, "") for p in found]
        else:
            files = [f for f in corpus_files() if not options.kind or f.kind in options.kind]
        files = files[: options.limit] if options.limit else files
        print(f"{len(files)} corpus files")
        names = ["embedded", *(["tika-server"] if server else [])]
        results = {}
        for number, name in enumerate(names):
            settings.EDMS_EXTRACTOR = EXTRACTORS[name](server.url if server else "")
            print(f"\n== {name} extractor ({settings.EDMS_EXTRACTOR['BACKEND']})")
            watched = server if name == "tika-server" else None
            with RssSampler(server=watched) as sampler:
                outcomes = run_pipeline(files, f"BG/P/2024/{900001 + number}")
            results[name] = outcomes
            print_end_to_end(outcomes)
            direct_extraction(outcomes)
            gate_cost(outcomes)
            if number == 0:  # OCR is the same work whichever extractor runs
                direct_ocr(outcomes, Path(tmp))
            print_rss(sampler, server=watched is not None and watched.pid is not None)
        if len(results) > 1:
            print_side_by_side(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
