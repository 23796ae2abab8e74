"""Transfer benchmark (`make bench`): big uploads and downloads through the real API.

For each leg — *embedded* (SQLite, filesystem blobs) and *production* (PostgreSQL, S3 on a moto
server process) — edms is started the way production runs it (gunicorn, one gthread worker), a
file of random data is uploaded as a new document version (raw body, then streaming multipart)
and downloaded back with its SHA-256 checked. Each figure is printed beside a reference transfer
to the same store in the same run: a plain file copy (embedded) or raw boto3 (production). A
sampler thread reads the gunicorn worker's RSS every 50 ms, so the table also shows what a
transfer costs the server in memory (issue 2: a 2 GB upload may grow it by ~64 MB at most).

    python -m tests.bench.transfer [--size 1G] [--leg embedded|production] [--tmp-dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import boto3
import psutil
import psycopg
import requests

from edms import localbroker
from tests.bench.served import (
    BIN,
    CHUNK,
    BenchFile,
    api_session,
    background,
    edms,
    edms_server,
    expect,
    free_port,
    leg_environment,
    mib,
    parse_size,
    print_machine,
    server_log_on_error,
    wait_until_up,
    write_random_file,
)

DOSSIER_KEY = "BG/P/2024/1"
# The server (no database name) the PostgreSQL leg creates its database on; .ci/run's is
# postgres://postgres:edms-ci@127.0.0.1:5432.
POSTGRES = os.environ.get("EDMS_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
BENCH_DATABASE = "edms_bench"
BUCKET = "edms-bench"
S3_CREDENTIALS = {
    "aws_access_key_id": "bench",
    "aws_secret_access_key": "bench",
    "region_name": "us-east-1",
}


# --- Processes: moto, the server's memory ----------------------------------------------------


@contextlib.contextmanager
def moto_server(workdir: Path) -> Iterator[str]:
    """An S3 protocol server in its own process; its spooled objects live under `workdir`."""
    port = free_port()
    env = {**os.environ, "TMPDIR": str(workdir)}
    log = workdir / "moto.log"
    command = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    with background(command, env, log) as process:
        endpoint = f"http://127.0.0.1:{port}"
        wait_until_up(endpoint, process, log, want_ok=False)
        yield endpoint


@dataclass(frozen=True)
class ServerFigures:
    rss_baseline: int
    rss_peak: int
    cpu_seconds: float  # user + system time of the worker(s): less disturbed by other load


class WorkerMeter:
    """Samples the summed RSS of a gunicorn master's workers every 50 ms while in use, and
    counts the CPU time they spend."""

    def __init__(self, master_pid: int, interval: float = 0.05):
        self.workers = psutil.Process(master_pid).children(recursive=True)
        self.interval = interval
        self.baseline = self.peak = 0
        self.cpu_start = self.cpu_end = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def rss(self) -> int:
        total = 0
        for worker in self.workers:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += worker.memory_info().rss
        return total

    def cpu(self) -> float:
        total = 0.0
        for worker in self.workers:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = worker.cpu_times()
                total += times.user + times.system
        return total

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.rss())

    def __enter__(self) -> WorkerMeter:
        self.baseline = self.peak = self.rss()
        self.cpu_start = self.cpu()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())
        self.cpu_end = self.cpu()

    @property
    def figures(self) -> ServerFigures:
        return ServerFigures(self.baseline, self.peak, self.cpu_end - self.cpu_start)


def workers_high_water_mark(master_pid: int) -> int:
    """The workers' lifetime peak RSS (`VmHWM`), which a sampler could miss between samples."""
    total = 0
    for worker in psutil.Process(master_pid).children(recursive=True):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{worker.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
    return total


# --- Streaming HTTP client --------------------------------------------------------------------


class MultipartBody:
    """A multipart/form-data body streamed from disk, its length known up front.

    Django reads a request body only up to its Content-Length (a chunked request arrives
    empty), so this is an iterable with `__len__`: requests then sends a Content-Length and
    iterates, holding one chunk at a time.
    """

    def __init__(self, path: Path, *, field: str, filename: str, prefix: bytes = b""):
        self.path = path
        self.boundary = uuid.uuid4().hex
        self.head = (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode() + prefix
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self.head) + self.path.stat().st_size + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        with open(self.path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
        yield self.tail


def create_document(session: requests.Session, url: str) -> str:
    """A dossier with one small document, whose new versions the big uploads become."""
    dossier = session.put(f"{url}/api/v1/dossiers/{DOSSIER_KEY}", json={"ip_type": "patent"})
    dossier.raise_for_status()
    response = session.post(
        f"{url}/api/v1/dossiers/{DOSSIER_KEY}/documents",
        data={"type": "CLM"},
        files={"file": ("claims.txt", b"1. A benchmark, comprising a file.", "text/plain")},
    )
    return expect(response, 201)["id"]


def upload_raw(session: requests.Session, url: str, document_id: str, bench: BenchFile) -> None:
    with open(bench.path, "rb") as body:  # requests streams an open file, never reads it whole
        response = session.post(
            f"{url}/api/v1/documents/{document_id}/versions",
            data=body,
            headers={"Content-Type": "application/octet-stream", "X-Filename": "big.bin"},
        )
    check_digest(expect(response, 201)["sha256"], bench.sha256, "raw upload")


def upload_multipart(
    session: requests.Session, url: str, document_id: str, bench: BenchFile
) -> None:
    body = MultipartBody(bench.path, field="file", filename="big.bin", prefix=bench.salt)
    response = session.post(
        f"{url}/api/v1/documents/{document_id}/versions",
        data=body,
        headers={"Content-Type": body.content_type},
    )
    check_digest(expect(response, 201)["sha256"], bench.salted_sha256, "multipart upload")


def download_latest(
    session: requests.Session, url: str, document_id: str, bench: BenchFile
) -> None:
    digest = hashlib.sha256()
    content_url = f"{url}/api/v1/documents/{document_id}/content"
    with session.get(content_url, stream=True) as response:
        response.raise_for_status()
        for chunk in response.iter_content(CHUNK):
            digest.update(chunk)
    check_digest(digest.hexdigest(), bench.salted_sha256, "download")


def check_digest(actual: str, expected: str, what: str) -> None:
    if actual != expected:
        raise RuntimeError(f"{what}: SHA-256 {actual}, expected {expected}")


# --- Measuring and reporting ------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    size: int
    seconds: float
    server: ServerFigures | None = None

    @property
    def rate(self) -> str:
        return f"{self.size / self.seconds / 1e6:7.1f} MB/s"


def timed(label: str, size: int, transfer: Callable[[], object]) -> Figure:
    # Write back what earlier transfers left dirty, so it does not slow this one down.
    os.sync()
    start = time.perf_counter()
    transfer()
    return Figure(label, size, time.perf_counter() - start)


def timed_on_server(
    label: str, size: int, master_pid: int, transfer: Callable[[], object]
) -> Figure:
    with WorkerMeter(master_pid) as meter:
        figure = timed(label, size, transfer)
    return Figure(label, size, figure.seconds, meter.figures)


def report(leg: str, rows: list[tuple[Figure, Figure]], high_water: int) -> None:
    """One line per API transfer: its rate, the reference's rate, what it cost the server."""
    for api, reference in rows:
        line = (
            f"{leg:<11} {api.label:<21} {mib(api.size):>9} {api.seconds:6.1f} s {api.rate}"
            f" | {reference.label:<19} {reference.rate}"
        )
        if api.server is not None:
            server = api.server
            growth = server.rss_peak - server.rss_baseline
            line += (
                f" | server CPU {server.cpu_seconds:5.1f} s, RSS baseline"
                f" {mib(server.rss_baseline)}, peak {mib(server.rss_peak)}"
                f" ({'+' if growth >= 0 else '-'}{mib(abs(growth))})"
            )
        print(line, flush=True)
    print(f"{leg:<11} server worker lifetime peak RSS (VmHWM): {mib(high_water)}", flush=True)


# --- The legs ---------------------------------------------------------------------------------


def api_figures(env: dict[str, str], bench: BenchFile, log: Path) -> tuple[list[Figure], int]:
    """Migrate, make a key, start the server, and time the uploads and the download."""
    edms(env, "migrate", "--no-input")
    api_key = edms(env, "createapikey", "--name", "bench", "--role", "registry_system")
    session = api_session(api_key.strip().splitlines()[-1])
    with edms_server(env, log) as (url, pid), server_log_on_error(log):
        document_id = create_document(session, url)
        salted_size = bench.size + len(bench.salt)
        transfers = [
            ("upload API raw body", bench.size, upload_raw),
            ("upload API multipart", salted_size, upload_multipart),
            ("download API", salted_size, download_latest),
        ]
        figures = [
            timed_on_server(label, size, pid, partial(step, session, url, document_id, bench))
            for label, size, step in transfers
        ]
        return figures, workers_high_water_mark(pid)


def embedded_leg(bench: BenchFile, workdir: Path) -> None:
    data_dir = workdir / "embedded"
    env = leg_environment(data_dir)
    print(f"embedded    (SQLite, filesystem blobs under {data_dir})", flush=True)
    with localbroker.running(data_dir):  # `edms run` would start it: the uploads queue tasks
        (upload_raw_, upload_multipart_, download), high_water = api_figures(
            env, bench, workdir / "embedded-server.log"
        )
    copy_in, copy_out = data_dir / "copy-in.bin", workdir / "copy-out.bin"

    def copy_and_sync() -> None:
        shutil.copyfile(bench.path, copy_in)
        with open(copy_in, "rb+") as handle:  # the server fsyncs each upload too
            os.fsync(handle.fileno())

    copy_up = timed("file copy+fsync", bench.size, copy_and_sync)
    copy_down = timed("file copy", bench.size, lambda: shutil.copyfile(copy_in, copy_out))
    copy_in.unlink()
    copy_out.unlink()
    rows = [(upload_raw_, copy_up), (upload_multipart_, copy_up), (download, copy_down)]
    report("embedded", rows, high_water)


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """An empty `edms_bench` database (a leftover one would point at blobs moto no longer has)."""

    def recreate(create: bool) -> str:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
            if create:
                connection.execute(f"CREATE DATABASE {BENCH_DATABASE}")
            return f"PostgreSQL {connection.info.server_version // 10000}"

    version = recreate(create=True)
    try:
        yield version
    finally:
        recreate(create=False)


def s3_download(s3, key: str, sha256: str) -> None:
    """What the API download does, minus the API: stream one GET and hash it.

    (Not `download_file`: its parallel ranged GETs are slow on moto, which reads the whole
    object for every range, so it would measure moto rather than S3 transfer.)
    """
    digest = hashlib.sha256()
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"]
    for chunk in body.iter_chunks(CHUNK):
        digest.update(chunk)
    check_digest(digest.hexdigest(), sha256, "boto3 download")


def production_leg(bench: BenchFile, workdir: Path) -> None:
    moto_dir = workdir / "moto"
    moto_dir.mkdir()
    with fresh_postgres_database() as postgres, moto_server(moto_dir) as endpoint:
        s3 = boto3.client("s3", endpoint_url=endpoint, **S3_CREDENTIALS)
        s3.create_bucket(Bucket=BUCKET)
        env = leg_environment(
            workdir / "production",
            DATABASE_URL=f"{POSTGRES}/{BENCH_DATABASE}",
            EDMS_S3_BUCKET=BUCKET,
            EDMS_S3_ENDPOINT_URL=endpoint,
            EDMS_S3_REGION=S3_CREDENTIALS["region_name"],
            EDMS_S3_ACCESS_KEY_ID=S3_CREDENTIALS["aws_access_key_id"],
            EDMS_S3_SECRET_ACCESS_KEY=S3_CREDENTIALS["aws_secret_access_key"],
        )
        print(f"production  ({postgres}, S3 on moto_server {endpoint})", flush=True)
        (upload_raw_, upload_multipart_, download), high_water = api_figures(
            env, bench, workdir / "production-server.log"
        )
        key = "reference/big.bin"
        put = timed(
            "boto3 upload_file", bench.size, lambda: s3.upload_file(str(bench.path), BUCKET, key)
        )
        get = timed("boto3 get_object", bench.size, lambda: s3_download(s3, key, bench.sha256))
        rows = [(upload_raw_, put), (upload_multipart_, put), (download, get)]
        report("production", rows, high_water)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.transfer", description=__doc__)
    parser.add_argument("--size", type=parse_size, default=parse_size("1G"))
    parser.add_argument("--leg", choices=["embedded", "production", "both"], default="both")
    parser.add_argument("--tmp-dir", help="where the test file and the stores go ($TMPDIR)")
    options = parser.parse_args(argv)

    print_machine(
        "edms transfer benchmark",
        options.size,
        server="gunicorn, 1 worker x 4 threads (gthread); client and server share the machine",
        note="the download is the multipart version; the client hashes it as it arrives",
    )
    legs = ["embedded", "production"] if options.leg == "both" else [options.leg]
    with tempfile.TemporaryDirectory(prefix="edms-bench-", dir=options.tmp_dir) as tmp:
        workdir = Path(tmp)
        bench = write_random_file(workdir / "big.bin", options.size)
        try:
            for leg in legs:
                (embedded_leg if leg == "embedded" else production_leg)(bench, workdir)
        except (RuntimeError, requests.RequestException, OSError, psycopg.Error) as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
