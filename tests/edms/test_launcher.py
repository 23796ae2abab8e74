"""`edms run` for real, on a fresh embedded default: its private broker, its workers, and a
supervisor that starts a killed worker again while the web server goes on answering.

Runs on both CI legs the same way: the production variables are removed, so `edms run` starts
its own broker and database under a temporary data directory.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psutil
import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from dossier.checks import check_configuration
from edms.launcher import worker_commands
from ingest.sandbox.processes import child_environment
from tests.gunicorn_server import free_port
from tests.launcher_support import (
    EDMS,
    START_TIMEOUT,
    EdmsRun,
    answers,
    edms_running,
    embedded_env,
)
from tests.services import wait_until

RESTART_TIMEOUT = 60.0
PROCESS_TIMEOUT = 120.0


@pytest.fixture
def edms_run(tmp_path) -> Iterator[EdmsRun]:
    with edms_running(tmp_path, embedded_env(tmp_path / "data")) as run:
        yield run


@pytest.mark.worker
def test_a_killed_worker_and_a_killed_broker_are_started_again_and_work_goes_on(edms_run):
    run = edms_run
    # Both workers of EDMS_LOCAL_WORKERS, by their stable names, on the private broker.
    wait_until(
        lambda: run.workers_ready(2), timeout=START_TIMEOUT, what="workers", explain=run.log_tail
    )
    assert (run.data_dir / "run" / "broker.sock").is_socket()
    [worker] = run.children("main@%h")
    [web] = run.children("gunicorn")
    # The index's one writer is the interactive worker.
    [writer] = run.children("interactive@%h")
    assert writer.cmdline()[-2:] == ["-Q", "index,interactive"]
    # Processes with threads keep to two malloc arenas (see edms.launcher._threaded_environment).
    assert {p.environ().get("MALLOC_ARENA_MAX") for p in (web, worker, writer)} == {"2"}

    worker.send_signal(signal.SIGKILL)

    wait_until(
        lambda: [p for p in run.children("main@%h") if p.pid != worker.pid],
        timeout=RESTART_TIMEOUT,
        what="the killed worker to be started again",
        explain=run.log_tail,
    )
    log = run.log()
    assert f"worker main (pid {worker.pid}) exited with signal 9" in log
    assert "worker main: next start in 1 s" in log
    assert answers(run), "the web server stopped answering when a worker died"
    assert run.children("gunicorn") == [web]  # the same server, never stopped
    assert run.process.poll() is None

    # The broker too: killed, started again; the workers and the web server reconnect to it.
    [broker] = run.children("redis-server")
    broker.send_signal(signal.SIGKILL)
    wait_until(
        lambda: [p for p in run.children("redis-server") if p.pid != broker.pid],
        timeout=RESTART_TIMEOUT,
        what="the killed broker to be started again",
        explain=run.log_tail,
    )
    assert f"broker (pid {broker.pid}) exited with signal 9" in run.log()

    # The sandbox zygote both workers share (one started by `edms run`, none per worker) too.
    [zygote] = sandbox_zygotes(run)
    assert zygote.ppid() == run.process.pid
    assert (run.data_dir / "run" / "sandbox.sock").is_socket()
    # A sandbox child's environment: nothing of edms's settings or secrets reaches a parser.
    assert set(zygote.environ()) <= set(child_environment("/tmp")) | {"VIRTUAL_ENV"}
    zygote.send_signal(signal.SIGKILL)
    wait_until(
        lambda: [p for p in sandbox_zygotes(run) if p.pid != zygote.pid],
        timeout=RESTART_TIMEOUT,
        what="the killed sandbox zygote to be started again",
        explain=run.log_tail,
    )

    # A document filed now is processed and indexed: the new worker takes the work.
    key = {"Authorization": f"Bearer {run.api_key()}"}
    dossier = requests.put(
        run.url + "/api/v1/dossiers/BG/P/2024/1",
        json={"ip_type": "patent", "title": "Restarted worker"},
        headers=key,
        timeout=30,
    )
    assert dossier.status_code in (200, 201), dossier.text
    filed = requests.post(
        run.url + "/api/v1/dossiers/BG/P/2024/1/documents",
        data={"type": "CLM"},
        files={"file": ("claims.txt", b"A gearbox with a self-healing supervisor.", "text/plain")},
        headers=key,
        timeout=30,
    )
    assert filed.status_code == 201, filed.text
    document_url = f"/api/v1/documents/{filed.json()['id']}"

    def processed():
        version = run.get(document_url, headers=key).json()["versions"][0]
        return version["processing"]["state"] == "done"

    wait_until(
        processed, timeout=PROCESS_TIMEOUT, what="the document's processing", explain=run.log_tail
    )

    def found():
        hits = run.get("/api/v1/search", params={"q": "self-healing"}, headers=key).json()
        return hits["count"] == 1

    wait_until(found, timeout=PROCESS_TIMEOUT, what="the document in search", explain=run.log_tail)
    # Its text was extracted in a child of the shared zygote: no worker started one of its own.
    [shared] = sandbox_zygotes(run)
    assert shared.ppid() == run.process.pid

    # The fixity scrub ran its first pass at the start, like the sweeper: once, and well.
    wait_until(
        lambda: scheduled_fixity_passes(run) == 1,
        timeout=PROCESS_TIMEOUT,
        what="the scheduled fixity pass",
        explain=run.log_tail,
    )
    assert "fixity scrub (pid" not in run.log()  # it never exited badly


def scheduled_fixity_passes(run: EdmsRun) -> int:
    """Finished passes of the scrub `edms run` schedules (read from its SQLite database)."""
    with closing(sqlite3.connect(run.data_dir / "edms.sqlite3", timeout=30)) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM dossier_fixitypass "
            "WHERE cycle_days IS NOT NULL AND finished_at IS NOT NULL"
        ).fetchone()
    return count


def sandbox_zygotes(run: EdmsRun) -> list[psutil.Process]:
    """Sandbox zygotes among all `edms run`'s descendants."""
    found = []
    for process in psutil.Process(run.process.pid).children(recursive=True):
        try:
            if "--zygote" in process.cmdline() and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except psutil.NoSuchProcess:
            pass
    return found


@pytest.mark.worker
def test_edms_run_says_what_to_install_without_redis_server(tmp_path):
    # The virtualenv's programs, and nothing else: no redis-server on the PATH.
    env = embedded_env(tmp_path / "data") | {"PATH": str(Path(sys.executable).parent)}
    result = subprocess.run(
        [EDMS, "run", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 1
    assert "redis-server is not installed" in result.stderr
    assert "apt-get install redis-server" in result.stderr


@pytest.mark.worker
def test_edms_run_stops_on_a_configuration_error_and_says_it(tmp_path):
    env = embedded_env(tmp_path / "data") | {"TIKA_SERVER_URL": "tika-on-port-9998"}
    result = subprocess.run(
        [EDMS, "run", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 1
    assert "ingest.E001" in result.stderr
    assert "Traceback" not in result.stderr
    assert "needs an http(s) url, not 'tika-on-port-9998'" in result.stderr
    assert not (tmp_path / "data" / "edms.sqlite3").exists()  # stopped before anything else


def test_the_workers_are_those_of_edms_local_workers(settings):
    settings.EDMS_LOCAL_WORKERS = [
        {"name": "main", "queues": ["celery", "extract"], "concurrency": 2},
        {"name": "interactive", "queues": ["interactive"], "concurrency": 1},
    ]
    commands = dict(worker_commands(Path("/venv/bin")))
    assert list(commands) == ["main", "interactive"]
    assert commands["interactive"] == [
        "/venv/bin/celery", "-A", "edms", "worker", "--loglevel", "INFO", "--concurrency", "1",
        "--pool", "solo", "--hostname", "interactive@%h", "-Q", "interactive",
    ]  # fmt: skip
    assert commands["main"][-2:] == ["-Q", "celery,extract"]
    assert commands["main"][commands["main"].index("--pool") + 1] == "threads"


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "main", "queues": "celery", "concurrency": 1},
        {"name": "main", "queues": ["celery"], "concurrency": 0},
        {"name": "main", "queues": ["celery"]},
    ],
)
def test_nonsense_in_edms_local_workers_is_refused(settings, entry):
    settings.EDMS_LOCAL_WORKERS = [entry]
    with pytest.raises(ImproperlyConfigured, match="EDMS_LOCAL_WORKERS"):
        worker_commands(Path("/venv/bin"))


def test_system_check_flags_a_routed_queue_no_local_worker_consumes(settings):
    assert not [p for p in check_configuration(None) if p.id == "edms.W005"]
    settings.CELERY_TASK_ROUTES = {"ingest.tasks.process_version": {"queue": "nobody-reads"}}
    [warning] = [p for p in check_configuration(None) if p.id == "edms.W005"]
    assert "nobody-reads" in warning.msg
