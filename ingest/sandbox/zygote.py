"""The zygote: a child of each worker process that has imported the parsers' modules once and
forks a fresh child per job (see the package's docstring for why). `_Zygote` and `zygote_run`
are the worker's handle on it; `zygote_main` and what follows run in the zygote itself."""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import traceback

from ingest.sandbox.child import die_with_parent, run_job
from ingest.sandbox.processes import SandboxFailure, child_environment, kill_pgid

# Imported once by the zygote, before it forks: Python modules only, none starts a thread.
PRELOADED = (
    "ingest.identify",
    "ingest.extractors",
    "ingest.extractors.embedded",
    # The embedded Tika's 116 MB native library, loaded (not started: no isolate, no thread) once.
    "iscc_tika",
    "ingest.render",
    "ingest.ocr",
    "filetype",
    "pikepdf",
    "pypdfium2",
    "PIL.Image",
    "ocrmypdf",
)
# How long past a job's own timeout the worker waits for the zygote to answer before it gives
# up on it (the zygote enforces the timeout itself; this only covers a zygote that hangs).
ZYGOTE_GRACE_S = 30
# The zygote's exit status when it refuses to fork (it has threads).
ZYGOTE_REFUSED = 3

# --- The worker's handle ------------------------------------------------------------------------


class _Zygote:
    """The worker's handle on its zygote: one job at a time, over the zygote's stdin/stdout."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        self.lock = threading.Lock()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ingest.sandbox", "--zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Unbuffered: an answer read ahead into a buffer would be invisible to select().
            bufsize=0,
            cwd=tempfile.gettempdir(),
            env=child_environment(tempfile.gettempdir()),
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def run(self, job: dict) -> int | None:
        """The job's exit status, or None when the zygote could not run it."""
        try:
            request = memoryview(json.dumps(job).encode() + b"\n")
            while request:
                request = request[self.process.stdin.write(request) :]
            started = self._answer(ZYGOTE_GRACE_S)
            if "refused" in started:
                self.stop()
                return None
            try:
                ended = self._answer(job["timeout_s"] + ZYGOTE_GRACE_S)
            except (OSError, ValueError):
                kill_pgid(started["pid"])  # the job must not outlive a zygote that hangs
                raise
        except (OSError, ValueError):
            self.stop()
            return None
        if ended["timed_out"]:
            raise SandboxFailure(f"timed out after {job['timeout_s']:g} s")
        return ended["returncode"]

    def _answer(self, timeout_s: float) -> dict:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout_s)
        if not ready:
            raise OSError("the sandbox zygote did not answer")
        line = self.process.stdout.readline()
        if not line:
            raise OSError("the sandbox zygote exited")
        return json.loads(line)

    def stop(self) -> None:
        kill_pgid(self.process.pid)
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            pipe.close()


_zygote: _Zygote | None = None
_zygote_refused = False
_zygote_lock = threading.Lock()


def zygote_run(job: dict) -> int | None:
    """Run the job in a child forked by this process's zygote (started on first use, again if it
    died). None: no zygote could take it (it refused, or another thread of this process is using
    it); the caller starts a fresh child instead."""
    global _zygote
    with _zygote_lock:
        if _zygote_refused:
            return None
        if _zygote is None or not _zygote.alive():
            try:
                _zygote = _Zygote()
            except OSError:
                return None
        zygote = _zygote
    if not zygote.lock.acquire(blocking=False):
        return None
    try:
        returncode = zygote.run(job)
    finally:
        zygote.lock.release()
    if returncode is None and zygote.process.poll() is not None:
        _note_refusal(zygote)
    return returncode


def _note_refusal(zygote: _Zygote) -> None:
    global _zygote_refused
    if zygote.process.returncode == ZYGOTE_REFUSED:
        _zygote_refused = True


def zygote_pid() -> int | None:
    """The pid of this process's zygote, if it has one running (tests and diagnostics)."""
    zygote = _zygote
    return zygote.process.pid if zygote is not None and zygote.alive() else None


# --- The zygote, its side ---------------------------------------------------------------------


def zygote_main() -> int:
    """Import the parsers' modules, then fork a child per job line read on stdin and answer
    `{"pid"}` when it starts and `{"returncode", "timed_out"}` when it has ended."""
    die_with_parent()
    for name in PRELOADED:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # an optional tool that is not installed: its job will say so
    answers = sys.stdout.buffer
    for line in sys.stdin.buffer:
        job = json.loads(line)
        if _thread_count() != 1:
            # Forking a process with other threads may leave the child holding locks that no
            # thread will ever release: let the worker start fresh children instead.
            answers.write(b'{"refused": "the zygote has threads"}\n')
            answers.flush()
            return ZYGOTE_REFUSED
        pid = os.fork()
        if pid == 0:
            _forked_child(job)  # never returns
        answers.write(json.dumps({"pid": pid}).encode() + b"\n")
        answers.flush()
        returncode, timed_out = _wait_for_job(pid, job["timeout_s"])
        answers.write(json.dumps({"returncode": returncode, "timed_out": timed_out}).encode())
        answers.write(b"\n")
        answers.flush()
    return 0


def _thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _wait_for_job(pid: int, timeout_s: float) -> tuple[int, bool]:
    """Wait for the job's child at most `timeout_s`, then kill its process group (what it
    started must not outlive it) and reap it. Its exit status as `Popen.returncode` gives it."""
    pidfd = os.pidfd_open(pid)
    try:
        ended, _, _ = select.select([pidfd], [], [], timeout_s)
    finally:
        os.close(pidfd)
    if ended:
        # Still a zombie after this wait, so its pid (the group's id) cannot be reused yet.
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    kill_pgid(pid)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), not ended


def _forked_child(job: dict) -> None:
    """In the child the zygote forked: become what a fresh sandbox child is, run the job, exit."""
    code = 1
    try:
        os.setsid()  # its own session and process group, as a fresh child has
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(signum, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        stderr = os.open(job["stderr_path"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(stderr, 2)
        os.close(devnull)
        os.close(stderr)
        os.chdir(job["workdir"])
        os.environ["HOME"] = os.environ["TMPDIR"] = job["workdir"]
        tempfile.tempdir = None  # chosen again from TMPDIR
        run_job(job)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)
