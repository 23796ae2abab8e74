"""What the transfer benchmarks (`transfer`, `uploads`) share: a file of random data to send,
edms started the way production runs it (gunicorn, one gthread worker) in an environment of the
run's own, an API client that streams large bodies, and the header that says which machine ran.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests
from requests.adapters import HTTPAdapter

MIB = 1024 * 1024
CHUNK = MIB
REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Variables of the caller's shell that would change which database or store a run uses.
_LEG_VARIABLE_PREFIXES = ("EDMS_", "AWS_", "DATABASE_URL", "CELERY_", "DJANGO_")


def parse_size(text: str) -> int:
    """`256M`, `1G`, `2G`, `1.5GiB` or a plain byte count, in binary units."""
    raw = text.strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 1024, "M": MIB, "G": 1024**3}
    multiplier = units.get(raw[-1:], 1)
    if raw[-1:] in units:
        raw = raw[:-1]
    try:
        size = int(float(raw) * multiplier)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 256M or 1G") from None
    if size <= 0:
        raise argparse.ArgumentTypeError("the size must be positive")
    return size


def mib(size: int) -> str:
    return f"{size / MIB:.0f} MiB"


# --- The test file --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchFile:
    path: Path
    size: int
    sha256: str
    # The multipart upload sends `salt + content`: otherwise it would be the raw upload's
    # content again, which a content-addressed store rightly does not write twice.
    salt: bytes
    salted_sha256: str


def write_random_file(path: Path, size: int) -> BenchFile:
    salt = os.urandom(16)
    plain, salted = hashlib.sha256(), hashlib.sha256(salt)
    with open(path, "wb") as handle:
        remaining = size
        while remaining:
            chunk = os.urandom(min(CHUNK, remaining))
            plain.update(chunk)
            salted.update(chunk)
            handle.write(chunk)
            remaining -= len(chunk)
    return BenchFile(path, size, plain.hexdigest(), salt, salted.hexdigest())


# --- The server -----------------------------------------------------------------------------------


def leg_environment(data_dir: Path, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_LEG_VARIABLE_PREFIXES)}
    env.update(DJANGO_SETTINGS_MODULE="edms.settings", EDMS_DATA_DIR=str(data_dir), **variables)
    return env


def edms(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "edms"), *args], env=env, cwd=REPO, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"edms {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


@contextlib.contextmanager
def server_log_on_error(log: Path) -> Iterator[None]:
    try:
        yield
    except Exception:
        print(f"--- the end of the server's log:\n{tail(log)}\n---", file=sys.stderr)
        raise


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, *, want_ok: bool) -> None:
    """Poll `url` until it answers (200 if `want_ok`); fail early if the process died."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited early:\n{tail(log)}")
        try:
            if requests.get(url, timeout=5).ok or not want_ok:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or still loading the application
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within 60 s:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def background(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with open(log, "ab") as output:
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        stop(process)


@contextlib.contextmanager
def edms_server(env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """The real server as production runs it; yields its URL and the gunicorn master's pid."""
    port = free_port()
    command = [str(BIN / "gunicorn"), "edms.wsgi:application", f"--bind=127.0.0.1:{port}"]
    command += ["--workers=1", "--threads=4", "--worker-class=gthread", "--timeout=600"]
    with background(command, env, log) as process:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(f"{url}/healthz", process, log, want_ok=True)
        yield url, process.pid


# --- The client -----------------------------------------------------------------------------------


class LargeBlocks(HTTPAdapter):
    # urllib3 sends a file body in 16 KiB reads; 1 MiB keeps the client out of the measurement.
    def init_poolmanager(self, *args, **kwargs):
        kwargs["blocksize"] = CHUNK
        super().init_poolmanager(*args, **kwargs)


def api_session(api_key: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api_key}"
    session.mount("http://", LargeBlocks())
    return session


def expect(response: requests.Response, status: int) -> dict:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.url} → {response.status_code}, "
            f"expected {status}: {response.text[:500]}"
        )
    return response.json()


# --- The header -----------------------------------------------------------------------------------


def print_machine(title: str, size: int, *, server: str, note: str) -> None:
    """The run's header: `title`, the machine, the file's size, the `server` line, the load."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = psutil.virtual_memory().total / 1024**3
    print(f"{title}, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(
        f"machine: {os.cpu_count()} cores ({cpu}), {memory:.1f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )
    print(f"file: {mib(size)} of random data (MB = 10^6 bytes, MiB = 2^20 bytes)")
    print(f"server: {server}")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average at start: {load} (other work on the machine slows every figure)")
    print(note, flush=True)
