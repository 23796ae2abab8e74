"""Pytest plugin: fixtures that run real external processes and talk to real services.

- `celery_worker`: a real `celery -A edms worker` subprocess on the same test database, broker
  and blob storage as the test process, stopped (with every process it started) at teardown.
- `s3_client`: a boto3 client of its own, over HTTP, to the bucket edms stores blobs in; the
  tests that use it are skipped unless blob storage is S3.
- `wait_until`: bounded polling, for results that another process produces.

Registered from `tests/conftest.py` (`pytest_plugins`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psutil
import pytest
from django.conf import settings

T = TypeVar("T")

WORKER_START_TIMEOUT = 60.0
WORKER_STOP_TIMEOUT = 20.0
S3_BACKEND = "storages.backends.s3.S3Storage"


def wait_until(
    probe: Callable[[], T],
    *,
    timeout: float,
    what: str,
    interval: float = 0.2,
    explain: Callable[[], str] | None = None,
) -> T:
    """Call `probe` until it returns something truthy; fail the test after `timeout` seconds.

    `explain` adds context (a worker's log, say) to the failure message.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            context = f"\n{explain()}" if explain is not None else ""
            pytest.fail(f"gave up after {timeout:.0f} s waiting for {what}{context}")
        time.sleep(interval)


# --- Celery worker ----------------------------------------------------------------------------


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no worker log)"
        return "\n".join(text.splitlines()[-lines:])

    def assert_alive(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(
                f"the Celery worker exited with {self.process.returncode}:\n{self.log_tail()}"
            )


def _database_env() -> dict[str, str]:
    """Variables that point a new process at the test database pytest-django created."""
    database = settings.DATABASES["default"]
    name = str(database["NAME"])
    vendor = database["ENGINE"].rsplit(".", 1)[-1]
    if vendor == "sqlite3":
        if name == ":memory:" or name.startswith("file:"):
            pytest.fail(f"the test database {name!r} is in memory; a worker cannot open it")
        return {"EDMS_SQLITE_PATH": name}
    if vendor in ("postgresql", "postgis") and os.environ.get("DATABASE_URL"):
        url = urlsplit(os.environ["DATABASE_URL"])
        return {"DATABASE_URL": urlunsplit(url._replace(path=f"/{name}"))}
    pytest.fail(f"no way to point a worker at the test database ({vendor}, {name!r})")


def _worker_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.pop("EDMS_CELERY_EAGER", None)
    env.pop("DATABASE_URL", None)
    env.update(_database_env())
    env["DJANGO_SETTINGS_MODULE"] = "edms.settings"
    # Same blobs, same broker, same secret key as this process.
    env["EDMS_DATA_DIR"] = str(settings.DATA_DIR)
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _purge_broker() -> None:
    """Drop tasks left in the queues by earlier tests and runs: their rows are gone, and a task
    naming a row id that a later test's row reuses would act on that row. Every queue a local
    worker consumes (`app.control.purge()` empties only the default one)."""
    from edms.celery import app

    app.control.purge()
    queues = {queue for worker in settings.EDMS_LOCAL_WORKERS for queue in worker["queues"]}
    with app.connection_for_write() as connection:
        for queue in sorted(queues):
            connection.default_channel.queue_purge(queue)


def _start_worker(
    log_path: Path, *, queues: list[str] | None = None, env: dict[str, str] | None = None
) -> WorkerProcess:
    """Start a worker; `queues` (default: Celery's default queue) and extra `env` variables."""
    celery = Path(sys.executable).with_name("celery")
    command = [
        str(celery),
        "-A",
        "edms",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "--hostname",
        f"edms-test-{os.getpid()}@%h",
        # Gossip and mingle talk to other workers at start-up; a test worker has none to meet.
        "--without-gossip",
        "--without-mingle",
        *(["-Q", ",".join(queues)] if queues else []),
    ]
    log = open(log_path, "wb")
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_worker_env() | (env or {}),
            cwd=settings.BASE_DIR,
            # Its own process group, so teardown can reach anything it started.
            start_new_session=True,
        )
    finally:
        log.close()
    return WorkerProcess(process, log_path)


def _wait_ready(worker: WorkerProcess) -> None:
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while " ready." not in worker.log_path.read_text(errors="replace"):
        worker.assert_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"the Celery worker did not get ready:\n{worker.log_tail()}")
        time.sleep(0.2)


def _stop_worker(worker: WorkerProcess) -> None:
    """Warm shutdown (SIGTERM), then SIGKILL to the whole group; nothing is left behind."""
    process = worker.process
    try:
        family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(True)]
    except psutil.NoSuchProcess:
        family = []
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=WORKER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=WORKER_STOP_TIMEOUT)
    for member in family:
        if member.is_running() and member.status() != psutil.STATUS_ZOMBIE:
            member.kill()
    _, alive = psutil.wait_procs(family, timeout=WORKER_STOP_TIMEOUT)
    assert not alive, f"worker processes left running: {[p.pid for p in alive]}"


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, tmp_path_factory) -> Iterator[WorkerProcess]:
    """A real Celery worker on the test database, the test broker and the test blob storage.

    Fails (never skips) when the worker cannot start: the tests that use it are the proof
    that follow-up work really runs in another process.
    """
    with running_worker(tmp_path_factory.mktemp("celery") / "worker.log") as worker:
        yield worker


@contextmanager
def running_worker(
    log_path: Path, *, queues: list[str] | None = None, env: dict[str, str] | None = None
) -> Iterator[WorkerProcess]:
    """A worker started on an empty broker, ready when entered, stopped when left."""
    _purge_broker()
    worker = _start_worker(log_path, queues=queues, env=env)
    try:
        _wait_ready(worker)
        yield worker
    finally:
        _stop_worker(worker)


# --- S3 -------------------------------------------------------------------------------------


def blobs_on_s3() -> bool:
    return settings.STORAGES["blobs"]["BACKEND"] == S3_BACKEND


@dataclass
class S3Bucket:
    client: Any  # a botocore S3 client
    bucket: str
    prefix: str

    def key(self, name: str) -> str:
        return f"{self.prefix.strip('/')}/{name}" if self.prefix.strip("/") else name


@pytest.fixture
def s3_bucket() -> S3Bucket:
    """Our own boto3 client to edms's bucket (skips the test when blobs are not on S3)."""
    if not blobs_on_s3():
        pytest.skip("blob storage is not S3 (set EDMS_S3_BUCKET and EDMS_S3_ENDPOINT_URL)")
    import boto3

    options = settings.STORAGES["blobs"]["OPTIONS"]
    client = boto3.client(
        "s3",
        endpoint_url=options.get("endpoint_url"),
        region_name=options.get("region_name"),
        aws_access_key_id=options.get("access_key"),
        aws_secret_access_key=options.get("secret_key"),
    )
    return S3Bucket(client, options["bucket_name"], options.get("location") or "")
