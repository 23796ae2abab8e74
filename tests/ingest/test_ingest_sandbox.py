"""Hostile behaviour in the sandbox child ends as a failed processing with the right reason; the
worker (this test process) survives and goes on processing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from dossier import blobstore
from ingest import pipeline, sandbox
from ingest.models import Processing, State
from ingest.pipeline import run_to_completion
from ingest.sandbox import zygote_server
from ingest.sandbox.processes import child_environment
from ingest.sandbox.zygote import SHARED_ZYGOTE_ENV
from tests.ingest_support import corpus_file, file_version, jobs_left_running
from tests.services import wait_until

DOCX = corpus_file("67797f56_testWORD.docx")
PDF = corpus_file("0418910f_testPDF_twoAuthors.pdf")


def hostile(name: str, **options) -> dict:
    return {"BACKEND": f"tests.ingest_hostile.{name}", "OPTIONS": options}


def process(dossier, **fields) -> Processing:
    version = file_version(dossier, DOCX.path.read_bytes(), DOCX.name, **fields)
    run_to_completion(version.id)
    return Processing.objects.get(version=version)


def no_children_left() -> bool:
    return not jobs_left_running()


def test_a_file_that_allocates_too_much_runs_out_of_memory(dossier, settings):
    settings.EDMS_EXTRACTOR = hostile("GreedyExtractor")
    settings.EDMS_INGEST_MEMORY_MIB = 256

    processing = process(dossier)

    assert processing.state == State.FAILED
    assert processing.reason_code == "out-of-memory"
    assert processing.reason == (
        "reading the file needed too much memory: ask for a smaller or simpler copy"
    )
    assert processing.steps[-1]["name"] == "extract"
    assert processing.steps[-1]["detail"] == "ran out of memory (limit 256 MiB)"
    assert no_children_left()


def test_a_file_that_never_finishes_times_out(dossier, settings):
    settings.EDMS_EXTRACTOR = hostile("SleepyExtractor")
    settings.EDMS_INGEST_TIMEOUT = 2

    processing = process(dossier)

    assert processing.state == State.FAILED
    assert processing.reason_code == "timed-out"
    assert processing.steps[-1]["detail"] == "timed out after 2 s"
    assert no_children_left()


def test_a_parser_crash_is_reported_with_its_signal(dossier, settings):
    settings.EDMS_EXTRACTOR = hostile("CrashingExtractor")

    processing = process(dossier)

    assert processing.state == State.FAILED
    assert processing.reason_code == "reader-crashed"
    assert processing.reason == (
        "the file crashed its reader: ask for another copy, or tell the operators"
    )
    assert processing.steps[-1]["detail"] == "the extractor crashed (SIGABRT)"


def test_the_worker_survives_and_processes_the_next_file(dossier, settings):
    settings.EDMS_EXTRACTOR = hostile("GreedyExtractor")
    settings.EDMS_INGEST_MEMORY_MIB = 256
    assert process(dossier).state == State.FAILED

    settings.EDMS_EXTRACTOR = {"BACKEND": "ingest.extractors.embedded.Extractor", "OPTIONS": {}}
    settings.EDMS_INGEST_MEMORY_MIB = 1024
    assert process(dossier).state == State.DONE


def test_the_child_cannot_reach_the_network(dossier, settings):
    # PostgreSQL listens on this machine; from inside the sandbox it is unreachable.
    settings.EDMS_EXTRACTOR = hostile("PhoningHomeExtractor", port=5432)

    processing = process(dossier)

    assert processing.state == State.DONE
    text = open_text(processing)
    assert text.startswith("blocked:"), text


def test_the_child_does_not_inherit_secrets(dossier, settings, monkeypatch):
    monkeypatch.setenv("EDMS_SECRET_KEY", "do-not-leak")
    settings.EDMS_EXTRACTOR = hostile("EnvironmentExtractor")
    processing = process(dossier)
    assert processing.state == State.DONE
    assert "do-not-leak" not in open_text(processing)
    assert "EDMS_SECRET_KEY" not in open_text(processing)


def open_text(processing: Processing) -> str:
    return b"".join(blobstore.read_chunks(processing.text_id)).decode()


def test_embedded_tika_works_within_a_small_memory_cap(dossier, settings):
    # The cap is on data, not address space: GraalVM reserves ~32 GiB of addresses up front.
    settings.EDMS_INGEST_MEMORY_MIB = 256
    assert process(dossier).state == State.DONE


def run_identity(tmp_path, **limits) -> dict:
    limits = sandbox.Limits(timeout_s=30, **limits)
    return sandbox.run("tests.ingest_hostile:process_identity", {}, limits=limits, workdir=tmp_path)


def test_every_job_runs_in_its_own_child_forked_by_the_zygote(tmp_path):
    first, second = run_identity(str(tmp_path)), run_identity(str(tmp_path))

    zygote = sandbox.zygote_pid()
    assert zygote is not None
    assert first["pid"] != second["pid"]
    assert first["ppid"] == second["ppid"] == zygote
    # Its own process group (a timeout kills all it started), led by the job's child.
    assert first["pgid"] == first["pid"] and second["pgid"] == second["pid"]
    assert no_children_left()


def test_renditions_run_at_a_lower_cpu_priority_than_extraction(tmp_path):
    extraction = run_identity(str(tmp_path), nice=pipeline.limits().nice)
    rendition = run_identity(str(tmp_path), nice=pipeline.rendition_limits().nice)

    assert rendition["niceness"] == extraction["niceness"] + pipeline.RENDITION_NICENESS > 0


def test_the_zygote_starts_tika_once_and_every_file_gets_a_warm_child_of_its_own(dossier):
    assert process(dossier).state == State.DONE
    zygote = sandbox.zygote_pid()

    second = process(dossier)

    assert second.state == State.DONE
    assert "This is a sample Microsoft Word Document." in open_text(second)
    # The same zygote forked both children: it did not refuse for the runtime's thread, which
    # is the only one besides its own, and sleeps.
    assert sandbox.zygote_pid() == zygote
    threads = psutil.Process(zygote).threads()
    names = {
        open(f"/proc/{zygote}/task/{thread.id}/comm").read().strip()
        for thread in threads
        if thread.id != zygote
    }
    assert names <= zygote_server.FORK_SAFE_THREADS
    assert len(threads) == 2  # Tika was started in the zygote itself


def test_a_child_that_dies_of_the_warm_runtime_is_run_again_in_a_fresh_child(tmp_path):
    limits = sandbox.Limits(timeout_s=30)

    found = sandbox.run(
        "tests.ingest_hostile:crash_if_warm",
        {},
        limits=limits,
        workdir=str(tmp_path),
        warm_up="tests.ingest_hostile:mark_warm",
    )

    # The zygote's child crashed; a fresh child, not forked from the warm zygote, answered.
    assert found["warm"] is False
    assert found["ppid"] == os.getpid() != sandbox.zygote_pid()
    assert no_children_left()


def restart_zygote() -> None:
    """The next job starts a zygote of its own, with the environment the worker has then."""
    pid = sandbox.zygote_pid()
    if pid is not None:
        os.kill(pid, 9)
        psutil.Process(pid).wait(timeout=10)


def test_the_embedded_tika_runs_no_program(dossier, tmp_path, monkeypatch):
    # Its OCR parser would otherwise run `tesseract` eight times on every start to probe for it,
    # though OCR is a step of its own: wasted time per file, and a program a parser could run.
    programs = tmp_path / "programs"
    programs.mkdir()
    ran = tmp_path / "tesseract-ran"
    fake = programs / "tesseract"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {ran}\nexec /usr/bin/false\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{programs}:{os.environ['PATH']}")
    restart_zygote()
    try:
        version = file_version(dossier, PDF.path.read_bytes(), PDF.name)
        run_to_completion(version.id)
    finally:
        restart_zygote()  # later jobs must not find the fake program

    processing = Processing.objects.get(version=version)
    assert processing.state == State.DONE
    assert "Blank Page" in open_text(processing)
    assert not ran.exists(), ran.read_text()


def test_ocrmypdf_is_loaded_into_the_zygote_at_its_first_ocr_job_only(tmp_path):
    # A forked child's RSS counts the zygote's whole heap again: born-digital files' children
    # do not carry OCRmyPDF's ~20 MiB; once a scan has come, OCR children start with it loaded.
    restart_zygote()
    limits = sandbox.Limits(timeout_s=30)
    operation, params = "tests.ingest_hostile:modules_loaded", {"names": ["ocrmypdf", "pikepdf"]}

    cold = sandbox.run(operation, params, limits=limits, workdir=str(tmp_path))
    warm = sandbox.run(
        operation, params, limits=limits, workdir=str(tmp_path), warm_up="ingest.ocr:preload"
    )
    after = sandbox.run(operation, params, limits=limits, workdir=str(tmp_path))

    assert cold["loaded"] == ["pikepdf"]  # preloaded by the zygote, unlike OCRmyPDF
    assert warm["loaded"] == after["loaded"] == ["ocrmypdf", "pikepdf"]


def test_a_dead_zygote_is_replaced_by_the_next_job(tmp_path):
    run_identity(str(tmp_path))
    dead = sandbox.zygote_pid()
    os.kill(dead, 9)
    psutil.Process(dead).wait(timeout=10)

    found = run_identity(str(tmp_path))

    assert sandbox.zygote_pid() not in (None, dead)
    assert found["ppid"] == sandbox.zygote_pid()


def test_the_zygote_runs_several_threads_jobs_at_once_each_with_its_own_timeout(tmp_path):
    # A worker with a thread per slot shares one zygote: jobs overlap, and one that overstays
    # its timeout is killed while the other goes on.
    run_identity(str(tmp_path))
    zygote = psutil.Process(sandbox.zygote_pid())
    gate = tmp_path / "gate"

    def at_gate(name: str, timeout_s: float) -> dict:
        (tmp_path / name).mkdir()
        limits = sandbox.Limits(timeout_s=timeout_s)
        operation, params = "tests.ingest_hostile:identity_at_gate", {"gate": str(gate)}
        return sandbox.run(operation, params, limits=limits, workdir=str(tmp_path / name))

    with ThreadPoolExecutor(2) as threads:
        overstaying = threads.submit(at_gate, "overstaying", 2)
        patient = threads.submit(at_gate, "patient", 60)
        while len(zygote.children()) < 2 and not overstaying.done():
            time.sleep(0.05)
        assert len(zygote.children()) == 2  # both forked, both running
        with pytest.raises(sandbox.SandboxFailure, match="timed out after 2 s"):
            overstaying.result()
        assert not patient.done()
        gate.touch()
        found = patient.result()

    assert found["ppid"] == zygote.pid == sandbox.zygote_pid()
    assert no_children_left()


@pytest.fixture
def shared_zygote(tmp_path, monkeypatch) -> Iterator[psutil.Process]:
    """A zygote shared by several workers, as `edms run` starts it, named in this process's
    environment as in its workers'; this process's own zygote is set aside meanwhile."""
    path = tmp_path / "sandbox.sock"
    started = subprocess.Popen(
        [sys.executable, "-m", "ingest.sandbox", "--zygote", "--listen", str(path)],
        env=child_environment(str(tmp_path)),
        start_new_session=True,
    )
    wait_until(path.is_socket, timeout=60, what="the shared zygote's socket")
    restart_zygote()
    monkeypatch.setenv(SHARED_ZYGOTE_ENV, str(path))
    try:
        yield psutil.Process(started.pid)
    finally:
        monkeypatch.delenv(SHARED_ZYGOTE_ENV)
        restart_zygote()  # drops this process's connection; the shared zygote is stopped here
        started.terminate()
        started.wait(timeout=30)


def test_workers_share_the_zygote_edms_run_starts(shared_zygote, tmp_path):
    here = run_identity(str(tmp_path))
    there = json.loads(another_worker(tmp_path, "process_identity").communicate(timeout=120)[0])

    assert here["ppid"] == there["ppid"] == shared_zygote.pid == sandbox.zygote_pid()
    assert here["pid"] != there["pid"]
    assert here["pgid"] == here["pid"]
    # Its environment is a sandbox child's: nothing of the workers' settings or secrets.
    assert set(shared_zygote.environ()) == set(child_environment(str(tmp_path)))


def another_worker(workdir: Path, operation: str, **params) -> subprocess.Popen:
    """A second worker process (this one's environment) running one job; its result on stdout."""
    job = json.dumps([f"tests.ingest_hostile:{operation}", params, str(workdir)])
    return subprocess.Popen(
        [sys.executable, "-c", ANOTHER_WORKER, job], stdout=subprocess.PIPE, text=True
    )


ANOTHER_WORKER = """
import json, sys
from ingest import sandbox
operation, params, workdir = json.loads(sys.argv[1])
limits = sandbox.Limits(timeout_s=60)
print(json.dumps(sandbox.run(operation, params, limits=limits, workdir=workdir)))
"""


def test_a_job_runs_in_a_fresh_child_while_the_shared_zygote_is_down(shared_zygote, tmp_path):
    run_identity(str(tmp_path))
    shared_zygote.kill()
    shared_zygote.wait(timeout=10)

    found = run_identity(str(tmp_path))

    # Nothing answers on the socket until `edms run` starts the zygote again: not an error.
    assert found["ppid"] == os.getpid()
    assert sandbox.zygote_pid() is None
    assert no_children_left()


def test_the_shared_zygote_stops_once_its_workers_are_done(shared_zygote, tmp_path):
    gate = tmp_path / "gate"
    worker = another_worker(tmp_path, "identity_at_gate", gate=str(gate))
    wait_until(shared_zygote.children, timeout=60, what="the job's child")

    shared_zygote.terminate()  # as `edms run` stops: a job still runs, its worker waits for it
    time.sleep(0.5)
    assert shared_zygote.status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    gate.touch()
    found = json.loads(worker.communicate(timeout=60)[0])

    assert found["ppid"] == shared_zygote.pid
    # The worker is gone, its connection with it: the zygote has nothing left to serve.
    assert shared_zygote.wait(timeout=10) == 0


def test_a_shared_zygote_no_worker_ever_used_stops_at_once(tmp_path):
    path = tmp_path / "sandbox.sock"
    started = subprocess.Popen(
        [sys.executable, "-m", "ingest.sandbox", "--zygote", "--listen", str(path)],
        env=child_environment(str(tmp_path)),
        start_new_session=True,
    )
    try:
        wait_until(path.is_socket, timeout=60, what="the shared zygote's socket")
        started.terminate()  # as `edms run` stops before any file was read

        assert started.wait(timeout=10) == 0
        assert not path.exists()
    finally:
        started.kill()
