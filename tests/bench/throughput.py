"""Throughput benchmark (`make bench`): `edms run` for real, upload → searchable, against the
tools' own speed on the same files, in one run (compare ratios: the machine is shared and noisy).

Starts `edms run` (web server, workers, indexer: the embedded default) on a temporary data
directory and a free port, uploads through the API with the registry's key, and polls
`GET /api/v1/search` until every document is found by a word only its batch holds. Printed, each
with its goal and the ratio:

- born-digital: N one-page PDFs (`mkpdfs.py`, the files used against Mayan EDMS) upload →
  searchable, against the embedded Tika called directly on the same files in a loop in this
  process (goal: edms ≤ 1.25x the raw time);
- scans: M one-page scanned pages (300 dpi greyscale, as `tests.bench.scan` makes them) upload →
  searchable, against `ocrmypdf` run directly, one file after the other, with the options edms
  uses (goal: ≥ 0.9x its pages/s);
- `--mayan PEER_DIR`: the same 50 PDFs through edms and through Mayan EDMS 4.12 (installed with
  ../shared/peers/mayan/install_peer.sh into PEER_DIR, started and stopped here): docs/s and
  peak RSS of each (goals: ≥ 10x Mayan's docs/s, ≤ ¼ of its RSS);
- `--bulk B`: B documents uploaded as a bulk import while a second client uploads one document
  every `--interactive-every` seconds: p95 of the interactive upload → searchable (goal ≤ 15 s),
  nothing lost (every document searchable), nothing processed twice (one `document.processed`
  event per document in the event feed). `--bulk-header 'Name: value'` marks the bulk client's
  requests as bulk (`Edms-Lane: bulk` by default, as `edms import` does; '' for none).

    python -m tests.bench.throughput [--pdfs 500] [--scans 100] [--bulk 2000]
        [--interactive-every 10] [--bulk-header 'Name: value'] [--mayan PEER_DIR] [--tmp-dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import psutil
import requests

from tests.bench.ingest import ocrmypdf_command, setup_django

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PEERS = PROJECT_ROOT.parent / "shared" / "peers" / "mayan"
MIB = 1024 * 1024
UPLOADERS = 2  # parallel upload connections of a client (Mayan's bench is run with the same)
POLL_S = 0.5


# --- edms, running ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Edms:
    """`edms run` on a fresh data directory; its API through `requests`."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        # Uploaders and one watcher per interactive upload share the session's connections.
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=64)
        self.session.mount("http://", adapter)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Edms:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("EDMS_", "DATABASE_URL", "CELERY_", "AWS_", "DJANGO_"))
        }
        env["EDMS_DATA_DIR"] = str(self.data_dir)
        log = open(self.data_dir.parent / "edms-run.log", "wb")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "edms"), "run", "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        key_file = self.data_dir / "registry-api-key"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._give_up("edms run exited")
            if key_file.exists() and self._answers(key_file):
                return self
            time.sleep(0.5)
        self._give_up("edms run did not answer within 3 minutes")

    def _give_up(self, why: str) -> NoReturn:
        """Stop what was started (`__exit__` is not called when `__enter__` fails) and say why
        with the log's end: the log goes with the temporary directory."""
        self.__exit__(None, None, None)
        log = (self.data_dir.parent / "edms-run.log").read_text(errors="replace")
        tail = "\n".join(log.splitlines()[-40:])
        raise SystemExit(f"{why}; its log ends:\n{tail}")

    def _answers(self, key_file: Path) -> bool:
        self.session.headers["Authorization"] = f"Bearer {key_file.read_text().strip()}"
        try:
            return self.session.get(f"{self.url}/api/v1/search?q=ready", timeout=5).ok
        except requests.RequestException:
            return False

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:  # a request failed: was edms run stopping by itself?
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        if self.process.poll() is not None:
            # It stopped by itself: the figures are void; say why before the log is removed.
            log = (self.data_dir.parent / "edms-run.log").read_text(errors="replace")
            tail = "\n".join(log.splitlines()[-40:])
            print(f"\nedms run exited ({self.process.returncode}); its log ends:\n{tail}")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def memory(self) -> Memory:
        """Memory of `edms run` and everything it started (web, workers, indexer, sandboxes)."""
        root = psutil.Process(self.process.pid)
        memory = Memory()
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                memory.add(role(process), process.memory_full_info())
        return memory

    def dossier(self, key: str) -> str:
        response = self.session.put(
            f"{self.url}/api/v1/dossiers/{key}",
            json={"ip_type": "patent", "title": "Throughput benchmark"},
            timeout=30,
        )
        response.raise_for_status()
        return key

    def upload(self, key: str, path: Path, headers: dict | None = None) -> str:
        for attempt in range(20):
            with open(path, "rb") as handle:
                response = self.session.post(
                    f"{self.url}/api/v1/dossiers/{key}/documents",
                    files={"file": (path.name, handle, "application/pdf")},
                    data={"type": "CLM", "official_date": "2024-03-01"},
                    headers=headers or {},
                    timeout=120,
                )
            if response.status_code not in (429, 503):
                break
            time.sleep(min(0.2 * 2**attempt, 5))
        response.raise_for_status()
        return response.json()["id"]

    def found(self, query: str, dossier: str) -> int:
        for attempt in range(5):
            try:
                response = self.session.get(
                    f"{self.url}/api/v1/search",
                    params={"q": query, "dossier": dossier, "page_size": 1},
                    timeout=30,
                )
                break
            except requests.ConnectionError:  # a kept-alive connection the server closed
                if attempt == 4 or self.process.poll() is not None:
                    raise
                time.sleep(POLL_S)
        response.raise_for_status()
        return response.json()["count"]

    def processed_events(self) -> Counter:
        """`document.processed` events per (document, version), from the whole event feed."""
        counts: Counter = Counter()
        cursor = "0"
        while True:
            body = self.session.get(
                f"{self.url}/api/v1/events", params={"after": cursor, "limit": 1000}, timeout=60
            ).json()
            for event in body["events"]:
                if event["kind"] == "document.processed":
                    counts[(event["document"], event["version"])] += 1
            cursor = body["next_cursor"]
            if not body["has_more"]:
                return counts


def role(process: psutil.Process) -> str:
    """What an `edms run` process is, for the memory breakdown."""
    command = " ".join(process.cmdline())
    for needle, name in (
        ("edms.supervisor", "edms run (supervisor)"),  # first: its plan names the others
        ("ingest.sandbox --zygote", "sandbox zygote"),
        ("ingest.sandbox", "sandbox child"),
        ("redis-server", "broker (redis)"),
        ("gunicorn", "web"),
        ("worker", "workers"),
        ("edms run", "edms run (preparing)"),
    ):
        if needle in command:
            return name
    return process.name()


@dataclass
class Memory:
    """RSS summed over processes (shared pages counted in each) and PSS (each shared page split
    among the processes sharing it: what the system really holds), with PSS by role."""

    rss: int = 0
    pss: int = 0
    processes: int = 0
    pss_by_role: Counter = field(default_factory=Counter)

    def add(self, role: str, info) -> None:
        self.rss += info.rss
        self.pss += info.pss
        self.processes += 1
        self.pss_by_role[role] += info.pss

    def breakdown(self) -> str:
        return ", ".join(f"{name} {pss / MIB:.0f}" for name, pss in self.pss_by_role.most_common())


@dataclass
class Sampler:
    """Peak memory of a measured system, sampled every `interval_s` in a thread."""

    measure: object
    interval_s: float = 0.5
    peak_rss: int = 0
    peak: Memory = field(default_factory=Memory)  # the sample with the highest PSS

    def __enter__(self) -> Sampler:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            with contextlib.suppress(psutil.Error):
                sample = self.measure()
                self.peak_rss = max(self.peak_rss, sample.rss)
                if sample.pss > self.peak.pss:
                    self.peak = sample

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def upload_until_searchable(
    edms: Edms, files: list[Path], query: str, timeout_s: float
) -> tuple[float, int]:
    """Upload `files` into a new dossier (UPLOADERS at a time) and poll search until `query`
    finds them all; seconds from the first upload, and how many were found."""
    key = edms.dossier(f"BG/P/2024/{int(time.time() * 1000) % 900000 + 100000}")
    started = time.perf_counter()
    with ThreadPoolExecutor(UPLOADERS) as pool:
        list(pool.map(lambda path: edms.upload(key, path), files))
    found = 0
    while time.perf_counter() - started < timeout_s:
        found = edms.found(query, key)
        if found >= len(files):
            break
        time.sleep(POLL_S)
    return time.perf_counter() - started, found


def verdict(ok: bool) -> str:
    return "goal met" if ok else "goal NOT met"


# --- Files ---------------------------------------------------------------------------------------


def born_digital(folder: Path, count: int, prefix: str) -> list[Path]:
    subprocess.run(
        [sys.executable, str(PEERS / "mkpdfs.py"), str(folder), str(count), prefix],
        check=True,
        capture_output=True,
    )
    return sorted(folder.glob("*.pdf"))


def scans(folder: Path, count: int) -> list[Path]:
    """One-page scans headed "DOC n PAGE 1", as the scan benchmark makes them."""
    from tests import scan_support as scan
    from tests.bench.scan import label

    folder.mkdir(parents=True)
    paths = []
    for number in range(count):
        path = folder / f"scan-{number:05d}.pdf"
        skew = (number % 3 - 1) * 0.6
        path.write_bytes(scan.batch_pdf([scan.text_page(label(number, 0), skew=skew)]))
        paths.append(path)
    return paths


# --- The measurements ----------------------------------------------------------------------------


def tika_directly(files: list[Path]) -> float:
    """The embedded Tika, called on each file in a loop in this process (warm after the first)."""
    from django.conf import settings

    from ingest.extractors import load

    extractor = load(settings.EDMS_EXTRACTOR)
    started = time.perf_counter()
    for path in files:
        extractor.extract(str(path), max_chars=settings.EDMS_INGEST_MAX_TEXT_CHARS)
    return time.perf_counter() - started


def ocrmypdf_directly(files: list[Path], workdir: Path) -> float:
    """`ocrmypdf` with edms's options, one file after the other."""
    started = time.perf_counter()
    for number, path in enumerate(files):
        command = ocrmypdf_command(
            path, workdir / f"direct-{number}.pdf", workdir / f"direct-{number}.txt"
        )
        subprocess.run(command, capture_output=True, check=True)
    return time.perf_counter() - started


def bench_pdfs(edms: Edms, tmp: Path, count: int) -> None:
    prefix = f"tp{int(time.time())}"
    files = born_digital(tmp / "pdfs", count, prefix)
    with Sampler(edms.memory) as memory:
        edms_s, found = upload_until_searchable(edms, files, f"{prefix}batch", 60 + 5 * count)
    raw_s = tika_directly(files)
    ratio = edms_s / raw_s
    print(f"\nborn-digital: {count} one-page PDFs, upload → searchable")
    print(
        f"  edms (edms run, {UPLOADERS} uploaders):   {edms_s:7.1f} s  {count / edms_s:6.2f} docs/s"
    )
    print(f"  embedded Tika directly, in a loop:  {raw_s:7.1f} s  {count / raw_s:6.2f} docs/s")
    print(
        f"  found by search: {found}/{count}; edms run's peak RSS {memory.peak_rss / MIB:.0f} MiB, "
        f"peak PSS {memory.peak.pss / MIB:.0f} MiB ({memory.peak.processes} processes)"
    )
    print(f"  PSS by role (MiB): {memory.peak.breakdown()}")
    print(f"  ratio {ratio:.2f}x the raw time (goal ≤ 1.25x): {verdict(ratio <= 1.25)}")


def bench_scans(edms: Edms, tmp: Path, count: int) -> None:
    files = scans(tmp / "scans", count)
    # Every page is headed "DOC n PAGE 1"; Tesseract reads "PAGE" on each (the 1 not always).
    edms_s, found = upload_until_searchable(edms, files, "PAGE", 120 + 60 * count)
    raw_s = ocrmypdf_directly(files, tmp / "scans")
    ratio = (count / edms_s) / (count / raw_s)
    print(f"\nscans: {count} one-page scans (300 dpi), upload → searchable")
    print(f"  edms (edms run):                   {edms_s:7.1f} s  {count / edms_s:6.2f} pages/s")
    print(f"  ocrmypdf directly, same options:   {raw_s:7.1f} s  {count / raw_s:6.2f} pages/s")
    print(f"  found by search: {found}/{count}")
    print(f"  ratio {ratio:.2f}x ocrmypdf's pages/s (goal ≥ 0.9x): {verdict(ratio >= 0.9)}")


def bench_mayan(edms: Edms, tmp: Path, peer_dir: Path, count: int = 50) -> None:
    prefix = f"my{int(time.time())}"
    files = born_digital(tmp / "mayan-pdfs", count, prefix)
    with Sampler(edms.memory) as memory:
        edms_s, found = upload_until_searchable(edms, files, f"{prefix}batch", 60 + 5 * count)
    env = dict(os.environ, PEER_DIR=str(peer_dir))
    subprocess.run([str(peer_dir / "run_peer.sh")], env=env, check=True)
    try:
        out = tmp / "mayan.json"
        subprocess.run(
            [
                "python3",
                str(peer_dir / "ingest_bench.py"),
                "--folder",
                str(tmp / "mayan-pdfs"),
                "--concurrency",
                str(UPLOADERS),
                "--json-out",
                str(out),
            ],
            env=env,
            check=False,
            capture_output=True,
        )
        mayan = json.loads(out.read_text())
    finally:
        subprocess.run([str(peer_dir / "stop_peer.sh")], env=env, check=False)
    mayan_rate = mayan.get("end_to_end_docs_per_s") or 0.0
    edms_rate = count / edms_s
    rate_ratio = edms_rate / mayan_rate if mayan_rate else float("inf")
    rss_ratio = memory.peak_rss / (mayan["peak_rss_mib_sum"] * MIB)
    pss_ratio = memory.peak.pss / (mayan["peak_pss_mib_sum"] * MIB)
    print(f"\nMayan EDMS 4.12 (small profile), the same {count} one-page PDFs")
    print(
        f"  edms:  {edms_rate:6.2f} docs/s  peak RSS {memory.peak_rss / MIB:6.0f} MiB  "
        f"peak PSS {memory.peak.pss / MIB:6.0f} MiB  ({found} found)"
    )
    print(
        f"  Mayan: {mayan_rate:6.2f} docs/s  peak RSS {mayan['peak_rss_mib_sum']:6.0f} MiB  "
        f"peak PSS {mayan['peak_pss_mib_sum']:6.0f} MiB  ({mayan['n_searchable']} found)"
    )
    print(f"  edms PSS by role (MiB): {memory.peak.breakdown()}")
    print(f"  docs/s ratio {rate_ratio:.1f}x (goal ≥ 10x): {verdict(rate_ratio >= 10)}")
    # RSS summed over processes counts a page shared by forked processes once per process (both
    # systems fork workers); PSS counts it once in all, so it is the fairer total of the two.
    print(
        f"  RSS ratio {rss_ratio:.2f}, PSS ratio {pss_ratio:.2f} (goal ≤ 0.25): "
        f"{verdict(rss_ratio <= 0.25)} by RSS, {verdict(pss_ratio <= 0.25)} by PSS"
    )


def bench_bulk(edms: Edms, tmp: Path, count: int, every_s: float, bulk_header: str) -> None:
    prefix = f"bk{int(time.time())}"
    files = born_digital(tmp / "bulk", count, prefix)
    bulk_headers = {}
    if bulk_header:
        name, _, value = bulk_header.partition(":")
        bulk_headers = {name.strip(): value.strip()}
    bulk_key = edms.dossier("BG/P/2024/700001")
    interactive_key = edms.dossier("BG/P/2024/700002")
    latencies: list[float] = []
    lost: list[str] = []
    uploaded_bulk = threading.Event()
    started = time.perf_counter()

    def watch(token: str, sent: float, name: str) -> None:
        while edms.found(token, interactive_key) < 1:
            if time.perf_counter() - sent > 600:
                lost.append(name)
                return
            time.sleep(POLL_S)
        latencies.append(time.perf_counter() - sent)

    def interactive() -> None:
        """One upload every `every_s` seconds, whatever the previous one's latency."""
        watchers = []
        number = 0
        while not uploaded_bulk.is_set() or number < 3:
            tick = time.perf_counter()
            prefix_i = f"ia{int(time.time())}n{number}"
            (path,) = born_digital(tmp / f"interactive-{number}", 1, prefix_i)
            sent = time.perf_counter()
            edms.upload(interactive_key, path)
            watcher = threading.Thread(target=watch, args=(f"{prefix_i}tok00000", sent, path.name))
            watcher.start()
            watchers.append(watcher)
            number += 1
            time.sleep(max(0.0, every_s - (time.perf_counter() - tick)))
        for watcher in watchers:
            watcher.join()

    client = threading.Thread(target=interactive, daemon=True)
    client.start()
    with ThreadPoolExecutor(UPLOADERS) as pool:
        list(pool.map(lambda path: edms.upload(bulk_key, path, bulk_headers), files))
    found = 0
    while time.perf_counter() - started < 120 + 5 * count:
        found = edms.found(f"{prefix}batch", bulk_key)
        if found >= count:
            break
        time.sleep(POLL_S)
    bulk_s = time.perf_counter() - started
    uploaded_bulk.set()
    client.join()
    processed = edms.processed_events()
    twice = sum(1 for n in processed.values() if n > 1)
    p95 = float("nan")
    if len(latencies) >= 2:
        p95 = statistics.quantiles(latencies, n=20, method="inclusive")[-1]
    print(f"\nbulk import of {count} PDFs (bulk header: {bulk_header or 'none'}) while a second")
    print(f"client uploads one document every {every_s:g} s")
    print(
        f"  bulk: all searchable after {bulk_s:.1f} s ({count / bulk_s:.2f} docs/s), {found} found"
    )
    if latencies:
        print(
            f"  interactive: {len(latencies)} uploads, median {statistics.median(latencies):.1f} s,"
            f" p95 {p95:.1f} s, max {max(latencies):.1f} s → searchable"
        )
    print(f"  p95 {p95:.1f} s (goal ≤ 15 s): {verdict(p95 <= 15)}")
    print(
        f"  lost: {count - found} bulk, {len(lost)} interactive; processed twice: {twice} "
        f"(goal 0 and 0): {verdict(found >= count and not lost and not twice)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.throughput", description=__doc__)
    parser.add_argument("--pdfs", type=int, default=500, help="born-digital PDFs (0: skip)")
    parser.add_argument("--scans", type=int, default=100, help="one-page scans (0: skip)")
    parser.add_argument("--bulk", type=int, default=2000, help="bulk import size (0: skip)")
    parser.add_argument("--interactive-every", type=float, default=10.0, metavar="SECONDS")
    parser.add_argument(
        "--bulk-header",
        default="Edms-Lane: bulk",
        help="'Name: value' on bulk requests ('': none)",
    )
    parser.add_argument("--mayan", type=Path, metavar="PEER_DIR", help="Mayan EDMS installed here")
    parser.add_argument("--tmp-dir", help="where the data directory goes ($TMPDIR)")
    options = parser.parse_args(argv)
    if options.mayan and not (options.mayan / "run_peer.sh").exists():
        parser.error(f"no Mayan peer in {options.mayan}: see {PEERS / 'README.md'}")

    sys.stdout.reconfigure(line_buffering=True)  # figures as they come, into a file too
    print(f"edms throughput benchmark — {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="edms-bench-throughput-", dir=options.tmp_dir) as tmp:
        tmp_path = Path(tmp)
        # Settings as `edms run` reads them (same defaults), for the direct calls of the tools.
        setup_django(str(tmp_path / "reference"))
        (tmp_path / "data").mkdir()
        with Edms(tmp_path / "data") as edms:
            print(f"edms run on {edms.url}, data in {edms.data_dir}")
            if options.pdfs:
                bench_pdfs(edms, tmp_path, options.pdfs)
            if options.scans:
                bench_scans(edms, tmp_path, options.scans)
            if options.mayan:
                bench_mayan(edms, tmp_path, options.mayan)
            if options.bulk:
                bench_bulk(
                    edms, tmp_path, options.bulk, options.interactive_every, options.bulk_header
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
