"""Upload-session benchmark (`make bench`): a large file through an upload session on S3,
against raw boto3 multipart to the same bucket.

S3Proxy (a real S3 server, objects on disk: `infra/s3proxy.sh`) is started for the run, and edms
the way production runs it (gunicorn, one gthread worker; SQLite, blobs in S3Proxy's bucket).
Then, with a file of random data (default 2 GiB):

(a) raw boto3: `upload_file` (multipart, boto3's default part size and concurrency) to the bucket;
(b) an upload session: `POST /api/v1/upload-sessions`, the parts PUT straight to their
    pre-signed S3 URLs by as many threads as boto3 uses, `POST …/commit` (edms assembles the
    parts, reads them back once to check the SHA-256, copies the object to its content key).

It prints MB/s of each, the ratio (goal ≥ 0.8), where the session's time went (the parts, then
the commit's assembling + read-back and its copy, from the server's log), and the web server's
RSS growth over the session (goal ≤ 64 MB; `VmRSS` before, `VmHWM` after, of its worker).

    python -m tests.bench.uploads [--size 2G] [--concurrency 10] [--tmp-dir DIR]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import psutil
import requests
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig

from edms import localbroker
from tests.bench.served import (
    CHUNK,
    REPO,
    BenchFile,
    LargeBlocks,
    api_session,
    edms,
    edms_server,
    expect,
    leg_environment,
    mib,
    parse_size,
    print_machine,
    tail,
    write_random_file,
)
from tests.bench.transfer import DOSSIER_KEY

BUCKET = "edms-bench-uploads"
IDENTITY, CREDENTIAL = "bench", "bench-secret"
REGION = "us-east-1"
# boto3's own default: `TransferConfig().max_concurrency`.
BOTO3_CONCURRENCY = TransferConfig().max_concurrency
# The part size of a session by default (`dossier.bucket_uploads.DEFAULT_PART_SIZE`).
SESSION_PART_SIZE = 64 * 1024**2
RATIO_GOAL = 0.8
RSS_GOAL = 64 * 10**6


@contextlib.contextmanager
def s3proxy(workdir: Path) -> Iterator[str]:
    """S3Proxy started by infra/s3proxy.sh in `workdir`, stopped afterwards; its endpoint."""
    env = {**os.environ, "S3PROXY_IDENTITY": IDENTITY, "S3PROXY_CREDENTIAL": CREDENTIAL}
    # S3Proxy holds a part in its heap while it takes it (boto3 sends them aws-chunked, with a
    # trailing checksum): ten 64 MiB parts at once exhaust its default 512 MiB.
    env.setdefault("S3PROXY_JAVA_OPTS", "-Xmx2g")
    script = str(REPO / "infra/s3proxy.sh")
    started = subprocess.run(
        [script, "start", str(workdir)], env=env, capture_output=True, text=True, check=False
    )
    if started.returncode != 0:
        raise RuntimeError(f"S3Proxy did not start:\n{started.stdout}{started.stderr}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    except BaseException:
        print(f"--- the end of S3Proxy's log:\n{tail(workdir / 'log')}\n---", file=sys.stderr)
        raise
    finally:
        subprocess.run([script, "stop", str(workdir)], env=env, capture_output=True, check=False)


def boto3_upload(s3, bench: BenchFile, config: TransferConfig) -> float:
    os.sync()
    start = time.perf_counter()
    s3.upload_file(str(bench.path), BUCKET, "reference/big.bin", Config=config)
    seconds = time.perf_counter() - start
    s3.delete_object(Bucket=BUCKET, Key="reference/big.bin")
    return seconds


def worker_pids(master_pid: int) -> list[int]:
    return [child.pid for child in psutil.Process(master_pid).children(recursive=True)]


def proc_status(pid: int, field: str) -> int:
    """`VmRSS` or `VmHWM` of a process, in bytes (from /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} for process {pid}")


class FilePart:
    """One part of the file as a request body: read from disk in 1 MiB chunks, its length
    known (requests then sends a Content-Length, which S3 requires), never held whole."""

    def __init__(self, path: Path, offset: int, size: int):
        self.path, self.offset, self.size = path, offset, size

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            remaining = self.size
            while remaining and (chunk := handle.read(min(CHUNK, remaining))):
                remaining -= len(chunk)
                yield chunk


_local = threading.local()


def _plain_session() -> requests.Session:
    """A connection pool per thread, as boto3's threads each have one."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
        _local.session.mount("http://", LargeBlocks())
    return _local.session


def put_part(path: Path, part: dict) -> None:
    # No credentials: the pre-signed URL carries them.
    response = _plain_session().put(part["url"], data=FilePart(path, part["offset"], part["size"]))
    if response.status_code != 200:
        raise RuntimeError(f"PUT part {part['number']} → {response.status_code}: {response.text}")


def through_session(
    api: requests.Session, url: str, bench: BenchFile, concurrency: int
) -> dict[str, float]:
    """(b): create, PUT the parts concurrently, commit; the seconds of each step."""
    times: dict[str, float] = {}
    start = time.perf_counter()
    declaration = {
        "size": bench.size,
        "sha256": bench.sha256,
        "filename": "big.bin",
        "media_type": "application/octet-stream",
        "dossier": DOSSIER_KEY,
        "type": "CLM",
    }
    session = expect(api.post(f"{url}/api/v1/upload-sessions", json=declaration), 201)
    if session["store"] != "s3":
        raise RuntimeError(f"the session's parts go to {session['store']}, not to S3")
    times["create"] = time.perf_counter() - start
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        for done in [pool.submit(put_part, bench.path, part) for part in session["parts"]]:
            done.result()
    times["parts"] = time.perf_counter() - start - times["create"]
    committed = expect(api.post(f"{url}/api/v1/upload-sessions/{session['id']}/commit"), 200)
    times["commit"] = time.perf_counter() - start - times["create"] - times["parts"]
    times["total"] = time.perf_counter() - start
    if committed["state"] != "filed":
        raise RuntimeError(f"the session was not filed: {json.dumps(committed)[:500]}")
    times["part_count"] = session["part_count"]
    times["part_size"] = session["part_size"]
    return times


def commit_breakdown(log: Path) -> str:
    """What the server logged of the commit: assembling + read-back, and filing (the copy)."""
    found = re.findall(
        r"assembled in ([\d.]+) s|assembled and read back in ([\d.]+) s, filed "
        r"\(copied to its content key\) in ([\d.]+) s",
        log.read_text(errors="replace"),
    )
    # The last session's lines (the warm-up's come first).
    assembled = next((float(a) for a, _, _ in reversed(found) if a), None)
    both = next(((float(b), float(c)) for _, b, c in reversed(found) if b), None)
    if both is None:
        return "(not in the server's log)"
    parts = []
    if assembled is not None:
        parts.append(f"CompleteMultipartUpload {assembled:.1f} s")
        parts.append(f"read-back + hash {both[0] - assembled:.1f} s")
    else:
        parts.append(f"assemble + read-back {both[0]:.1f} s")
    parts.append(f"copy to the content key + filing {both[1]:.1f} s")
    return ", ".join(parts)


def rate(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def run(bench: BenchFile, workdir: Path, concurrency: int) -> bool:
    with s3proxy(workdir / "s3proxy") as endpoint:
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=IDENTITY,
            aws_secret_access_key=CREDENTIAL,
        )
        s3.create_bucket(Bucket=BUCKET)
        print(f"S3Proxy at {endpoint} (objects under {workdir / 's3proxy'})", flush=True)

        # (a) raw boto3 multipart, its defaults (8 MiB parts, `concurrency` threads); and
        # again in the session's part size, to tell the part size's share from edms's.
        raw_seconds = boto3_upload(s3, bench, TransferConfig(max_concurrency=concurrency))
        same_parts = TransferConfig(
            max_concurrency=concurrency, multipart_chunksize=SESSION_PART_SIZE
        )
        raw_same_parts_seconds = boto3_upload(s3, bench, same_parts)

        # (b) an upload session through edms, a real server process.
        data_dir = workdir / "edms"
        env = leg_environment(
            data_dir,
            EDMS_S3_BUCKET=BUCKET,
            EDMS_S3_ENDPOINT_URL=endpoint,
            EDMS_S3_REGION=REGION,
            EDMS_S3_ACCESS_KEY_ID=IDENTITY,
            EDMS_S3_SECRET_ACCESS_KEY=CREDENTIAL,
        )
        log = workdir / "server.log"
        edms(env, "migrate", "--no-input")
        key = edms(env, "createapikey", "--name", "bench", "--role", "registry_system")
        api = api_session(key.strip().splitlines()[-1])
        with (
            localbroker.running(data_dir),
            edms_server(env, log) as (url, master),
        ):
            api.put(
                f"{url}/api/v1/dossiers/{DOSSIER_KEY}", json={"ip_type": "patent"}
            ).raise_for_status()
            # A small session first: what every commit loads (boto3, the filing path) is in
            # the worker before the baseline is read.
            warm_up(api, url, workdir)
            (worker,) = worker_pids(master)
            baseline = proc_status(worker, "VmRSS")
            os.sync()
            try:
                times = through_session(api, url, bench, concurrency)
            except Exception:
                print(f"--- the end of the server's log:\n{tail(log)}\n---", file=sys.stderr)
                raise
            peak = proc_status(worker, "VmHWM")

    session_rate = rate(bench.size, times["total"])
    raw_rate = rate(bench.size, raw_seconds)
    ratio = session_rate / raw_rate
    growth = peak - baseline
    print(
        f"(a) raw boto3 upload_file    {mib(bench.size):>9} {raw_seconds:6.1f} s "
        f"{raw_rate:7.1f} MB/s  (8 MiB parts, {concurrency} threads)"
    )
    print(
        f"    raw boto3 upload_file    {mib(bench.size):>9} {raw_same_parts_seconds:6.1f} s "
        f"{rate(bench.size, raw_same_parts_seconds):7.1f} MB/s  "
        f"({mib(SESSION_PART_SIZE)} parts, {concurrency} threads)"
    )
    print(
        f"(b) upload session           {mib(bench.size):>9} {times['total']:6.1f} s "
        f"{session_rate:7.1f} MB/s  ({int(times['part_count'])} parts of "
        f"{mib(int(times['part_size']))}, {concurrency} threads)"
    )
    print(
        f"    create {times['create']:.2f} s, parts PUT to S3 {times['parts']:.1f} s "
        f"({rate(bench.size, times['parts']):.1f} MB/s), commit {times['commit']:.1f} s: "
        f"{commit_breakdown(log)}"
    )
    print(
        f"ratio session / raw boto3: {ratio:.2f} (goal ≥ {RATIO_GOAL}: "
        f"{'met' if ratio >= RATIO_GOAL else 'not met'}); against boto3 in the session's "
        f"part size: {session_rate / rate(bench.size, raw_same_parts_seconds):.2f}"
    )
    print(
        f"web server worker RSS: {mib(baseline)} before, peak {mib(peak)} (VmHWM): growth "
        f"{growth / 1e6:.1f} MB (goal ≤ {RSS_GOAL / 1e6:.0f} MB: "
        f"{'met' if growth <= RSS_GOAL else 'not met'})",
        flush=True,
    )
    return ratio >= RATIO_GOAL and growth <= RSS_GOAL


def warm_up(api: requests.Session, url: str, workdir: Path) -> None:
    small = write_random_file(workdir / "small.bin", 64 * 1024)
    through_session(api, url, small, 1)
    small.path.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.uploads", description=__doc__)
    parser.add_argument("--size", type=parse_size, default=parse_size("2G"))
    parser.add_argument(
        "--concurrency",
        type=int,
        default=BOTO3_CONCURRENCY,
        help=f"threads of both uploads (default boto3's, {BOTO3_CONCURRENCY})",
    )
    parser.add_argument("--tmp-dir", help="where the test file and the store go ($TMPDIR)")
    options = parser.parse_args(argv)

    print_machine(
        "edms upload-session benchmark",
        options.size,
        server="gunicorn, 1 worker x 4 threads (gthread), SQLite, blobs on S3Proxy",
        note="client, edms and S3Proxy share the machine",
    )
    with tempfile.TemporaryDirectory(prefix="edms-bench-uploads-", dir=options.tmp_dir) as tmp:
        workdir = Path(tmp)
        bench = write_random_file(workdir / "big.bin", options.size)
        try:
            run(bench, workdir, options.concurrency)
        except (RuntimeError, requests.RequestException, OSError, S3UploadFailedError) as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
