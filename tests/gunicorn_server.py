"""A real `gunicorn edms.wsgi:application` process on the test database, for tests that need a
real server: streaming uploads (memory bound) and a server killed mid-upload.

The server runs in its own session (process group), so `stop()` and `kill()` reach its workers
too, and the context manager always leaves nothing running.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
from django.conf import settings
from django.db import connection

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def process_env() -> dict[str, str]:
    """Environment for a child process that uses the same test database, blobs and broker."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env["DJANGO_SETTINGS_MODULE"] = "edms.settings"
    env["EDMS_DATA_DIR"] = str(settings.DATA_DIR)
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["PYTHONUNBUFFERED"] = "1"
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        env.pop("DATABASE_URL", None)
        env["EDMS_SQLITE_PATH"] = name
    elif os.environ.get("DATABASE_URL"):
        url = urlsplit(os.environ["DATABASE_URL"])
        env["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{name}"))
    else:
        raise RuntimeError(f"cannot point a child process at the test database {name!r}")
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class GunicornServer:
    process: subprocess.Popen
    port: int
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def workers(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def connect(self, timeout: float = 60.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def kill(self) -> None:
        """SIGKILL the master and its workers at once, as a power cut or the OOM killer would."""
        family = self._family()
        for member in family:
            try:
                member.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(family, timeout=STOP_TIMEOUT)
        self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        family = self._family()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        for member in family:
            try:
                member.kill()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(family, timeout=STOP_TIMEOUT)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)
        assert not alive, f"server processes left running: {[p.pid for p in alive]}"

    def _family(self) -> list[psutil.Process]:
        try:
            master = psutil.Process(self.process.pid)
            return [master, *master.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log_tail()}")
            try:
                conn = self.connect(timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT} s:\n{self.log_tail()}")


@contextmanager
def gunicorn_server(
    log_dir: Path,
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
    base_env: dict[str, str] | None = None,
) -> Iterator[GunicornServer]:
    """`workers` sync workers (one by default) on a free port, against the test database, with
    `env` added to the environment; stopped on exit. `base_env` replaces the environment that
    points it at the test database (another edms of its own: tests/exchange)."""
    port = free_port()
    log_path = log_dir / "gunicorn.log"
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "edms.wsgi:application",
        # The production configuration (limits, problem+json refusals), as `edms run` uses it.
        "--config",
        "python:edms.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "120",
        "--graceful-timeout",
        "2",
        "--chdir",
        str(settings.BASE_DIR),
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**(process_env() if base_env is None else base_env), **(env or {})},
            start_new_session=True,
        )
    server = GunicornServer(process, port, log_path)
    try:
        server._wait_ready()
        yield server
    finally:
        server.stop()


def start_upload(
    conn: http.client.HTTPConnection, path: str, *, size: int, headers: dict[str, str]
) -> None:
    """Send the request line and headers of a body of `size` bytes; the body follows."""
    conn.putrequest("POST", path)
    for name, value in {**headers, "Content-Length": str(size)}.items():
        conn.putheader(name, value)
    conn.endheaders()


def send_body(conn: http.client.HTTPConnection, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        conn.send(chunk)


def pattern_chunks(seed: str, count: int, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
    """`count` chunks of reproducible bytes, different per chunk and per seed."""
    for index in range(count):
        block = hashlib.sha256(f"{seed}:{index}".encode()).digest()
        yield block * (chunk_size // len(block))


def pattern_digest(seed: str, count: int, chunk_size: int = 1024 * 1024) -> str:
    digest = hashlib.sha256()
    for chunk in pattern_chunks(seed, count, chunk_size):
        digest.update(chunk)
    return digest.hexdigest()
