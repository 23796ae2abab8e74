"""`edms run` as a real subprocess for tests: started on a data directory of its own, stopped
with SIGTERM as a service manager would, and nothing it started left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg
import pytest
import redis
import requests

from tests.gunicorn_server import free_port
from tests.services import wait_until

EDMS = str(Path(sys.executable).with_name("edms"))
# Variables that select a non-default setup (the production leg's); `embedded_env` drops them.
SETUP_VARIABLES = ("EDMS_", "DATABASE_URL", "AWS_", "CELERY_", "DJANGO_SETTINGS_MODULE", "PYTEST_")
START_TIMEOUT = 180.0  # migrations and collectstatic on a fresh data directory, then the workers


@dataclass
class EdmsRun:
    process: subprocess.Popen
    url: str
    data_dir: Path
    log_path: Path
    env: dict[str, str]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def api_key(self) -> str:
        return (self.data_dir / "registry-api-key").read_text().strip()

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=10, **kwargs)

    def children(self, marker: str) -> list[psutil.Process]:
        """Live processes `edms run` started whose command line contains `marker`."""
        found = []
        for child in psutil.Process(self.process.pid).children():
            try:
                if marker in " ".join(child.cmdline()) and child.status() != "zombie":
                    found.append(child)
            except psutil.NoSuchProcess:
                pass
        return found

    def workers_ready(self, count: int) -> bool:
        return self.log().count(" ready.") >= count


def embedded_env(data_dir: Path) -> dict[str, str]:
    """This process's environment without the variables that choose production services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETUP_VARIABLES)}
    return env | {"EDMS_DATA_DIR": str(data_dir)}


@contextmanager
def production_env(data_dir: Path, name: str, *, broker_db: int) -> Iterator[dict[str, str]]:
    """The production leg's services, each with a namespace of the test's own (`name`), emptied
    afterwards: a PostgreSQL database, a Redis database number, an S3 key prefix and a search
    index prefix (for a search cluster)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["EDMS_DATA_DIR"] = str(data_dir)
    database = f"edms_{name}_{os.getpid()}"
    url = urlsplit(os.environ["DATABASE_URL"])
    admin_url = urlunsplit(url._replace(path="/postgres"))
    env["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{database}"))
    broker = urlsplit(os.environ["CELERY_BROKER_URL"])
    env["CELERY_BROKER_URL"] = urlunsplit(broker._replace(path=f"/{broker_db}"))
    env["EDMS_S3_PREFIX"] = f"{name}-{uuid.uuid4().hex}"
    env["EDMS_SEARCH_INDEX_PREFIX"] = f"edms-{name}-{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}"')
        connection.execute(f'CREATE DATABASE "{database}"')
    redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()
    try:
        yield env
    finally:
        redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def answers(run: EdmsRun) -> bool:
    try:
        return run.get("/healthz").status_code == 200
    except requests.RequestException:  # not listening yet, or busy starting (a slow first answer)
        return False


@contextmanager
def edms_running(tmp_path: Path, env: dict[str, str], *, web_workers: int = 1) -> Iterator[EdmsRun]:
    """`edms run` with `env` (which names its EDMS_DATA_DIR), serving when entered."""
    port = free_port()
    data_dir = Path(env["EDMS_DATA_DIR"])
    env = env | {"EDMS_ADMIN_PASSWORD": "pw", "PYTHONUNBUFFERED": "1"}
    log_path = tmp_path / "edms-run.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [EDMS, "run", "--port", str(port), "--web-workers", str(web_workers)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    run = EdmsRun(process, f"http://127.0.0.1:{port}", data_dir, log_path, env)
    try:
        wait_until(
            lambda: answers(run) or process.poll() is not None,
            timeout=START_TIMEOUT,
            what="edms run to serve",
            explain=run.log_tail,
        )
        assert process.poll() is None, run.log_tail()
        yield run
    finally:
        stop(run)


def stop(run: EdmsRun) -> None:
    """SIGTERM, as a service manager would; then make sure nothing it started is left."""
    try:
        family = psutil.Process(run.process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    run.process.send_signal(signal.SIGTERM)
    try:
        run.process.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(run.process.pid, signal.SIGKILL)
        run.process.wait()
        pytest.fail(f"edms run did not stop on SIGTERM:\n{run.log_tail()}")
    for group in {p.pid for p in family}:
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    _, alive = psutil.wait_procs(family, timeout=10)
    assert not alive, f"left running by edms run: {[p.cmdline() for p in alive]}"
