"""The zygote: a child of each worker process that has imported the parsers' modules once and
forks a fresh child per job (see the package's docstring for why). `_Zygote` and `zygote_run`
are the worker's handle on it; `zygote_main` and what follows run in the zygote itself."""

from __future__ import annotations

import importlib
import itertools
import json
import os
import queue
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass

from ingest.sandbox.child import die_with_parent, run_job
from ingest.sandbox.processes import SandboxFailure, child_environment, kill_pgid

# Imported once by the zygote, before it forks: Python modules only, none starts a thread.
PRELOADED = (
    "ingest.identify",
    "ingest.markup",  # lxml and charset-normalizer, for text, HTML and XML
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
# Threads a warm-up may leave in the zygote that a fork can leave behind while they sleep: the
# embedded Tika's GraalVM reference handler (named from the end: "Reference Handler" cut to 15
# characters), parked until a garbage collection hands it references. A child forked then has
# only the forking thread; should its runtime trip over the missing one (seen: archives whose
# parser starts threads), it dies by a signal and the worker parses the file again in a fresh
# child (`ingest.sandbox.worker`).
FORK_SAFE_THREADS = frozenset({"ference Handler"})

# --- The worker's handle ------------------------------------------------------------------------


class _Zygote:
    """The worker's handle on its zygote, shared by the worker's threads: each job is a request
    tagged with an id, written under a lock; one reader thread hands each answer to the thread
    waiting for that id."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        self.lock = threading.Lock()  # `waiting` and `stopped`
        self.write_lock = threading.Lock()  # the request pipe
        self.waiting: dict[int, queue.SimpleQueue] = {}
        self.next_id = itertools.count(1)
        self.stopped = False
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ingest.sandbox", "--zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=tempfile.gettempdir(),
            env=child_environment(tempfile.gettempdir()),
            start_new_session=True,
        )
        threading.Thread(target=self._dispatch, name="sandbox-zygote", daemon=True).start()

    def alive(self) -> bool:
        return self.owner == os.getpid() and not self.stopped and self.process.poll() is None

    def run(self, job: dict) -> int | None:
        """The job's exit status, or None when the zygote could not run it."""
        answers: queue.SimpleQueue = queue.SimpleQueue()
        with self.lock:
            if self.stopped:
                return None
            job_id = next(self.next_id)
            self.waiting[job_id] = answers
        try:
            self._send({**job, "id": job_id})
            started = _answer(answers, ZYGOTE_GRACE_S)
            if "refused" in started:
                self.stop()
                return None
            try:
                ended = _answer(answers, job["timeout_s"] + ZYGOTE_GRACE_S)
            except OSError:
                kill_pgid(started["pid"])  # the job must not outlive a zygote that hangs
                raise
        except (OSError, ValueError):
            self.stop()
            return None
        finally:
            with self.lock:
                del self.waiting[job_id]
        if ended["timed_out"]:
            raise SandboxFailure(f"timed out after {job['timeout_s']:g} s")
        return ended["returncode"]

    def _send(self, request: dict) -> None:
        with self.write_lock:
            if self.process.stdin.closed:
                raise OSError("the sandbox zygote was stopped")
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()

    def _dispatch(self) -> None:
        """The reader thread: each answer line to the job it names; at the zygote's end, tell
        every job still waiting (None) so it falls back to a fresh child."""
        try:
            for line in self.process.stdout:
                answer = json.loads(line)
                with self.lock:
                    answers = self.waiting.get(answer.get("id"))
                if answers is not None:
                    answers.put(answer)
        except (OSError, ValueError):
            pass
        finally:
            with self.lock:
                self.stopped = True
                for answers in self.waiting.values():
                    answers.put(None)
            self.process.stdout.close()

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
        kill_pgid(self.process.pid)  # first: a thread blocked writing to it is let go
        with self.write_lock:
            if not self.process.stdin.closed:
                self.process.stdin.close()
        self.process.wait()


def _answer(answers: queue.SimpleQueue, timeout_s: float) -> dict:
    try:
        answer = answers.get(timeout=timeout_s)
    except queue.Empty:
        raise OSError("the sandbox zygote did not answer") from None
    if answer is None:
        raise OSError("the sandbox zygote exited")
    return answer


_zygote: _Zygote | None = None
_zygote_refused = False
_zygote_lock = threading.Lock()


def zygote_run(job: dict) -> int | None:
    """Run the job in a child forked by this process's zygote (started on first use, again if it
    died); the zygote runs the jobs of all this process's threads at once. None: no zygote could
    take it (it refused, or died); the caller starts a fresh child instead."""
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
    returncode = zygote.run(job)
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


@dataclass
class _Running:
    """A job the zygote forked: its id, child, the child's pidfd and when its time is up."""

    id: int
    pid: int
    pidfd: int
    deadline: float


def zygote_main() -> int:
    """Import the parsers' modules, then fork a child per job line read on stdin, several at
    once: answer `{"id", "pid"}` when one starts and `{"id", "returncode", "timed_out"}` when it
    has ended (its own timeout enforced), waiting on stdin and the children's pidfds together."""
    die_with_parent()
    for name in PRELOADED:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # an optional tool that is not installed: its job will say so
    requests = sys.stdin.buffer.fileno()
    pending = b""
    running: dict[int, _Running] = {}  # by pidfd
    warmed: set[str] = set()
    while requests is not None or running:
        timeout = min((job.deadline for job in running.values()), default=None)
        if timeout is not None:
            timeout = max(0.0, timeout - time.monotonic())
        watched = list(running) + ([requests] if requests is not None else [])
        ready, _, _ = select.select(watched, [], [], timeout)
        for fd in ready:
            if fd in running:
                _answer_ended(running.pop(fd), timed_out=False)
        now = time.monotonic()
        for fd, job in list(running.items()):
            if fd not in ready and job.deadline <= now:
                _answer_ended(running.pop(fd), timed_out=True)
        if requests in ready:
            chunk = os.read(requests, 65536)
            if not chunk:
                requests = None  # the worker is gone or stopping: finish what runs
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                job = json.loads(line)
                if job.get("warm_up") and job["warm_up"] not in warmed:
                    warmed.add(job["warm_up"])  # tried once: if it fails, children stay cold
                    _warm_up(job["warm_up"])
                if not _forkable():
                    # Forking a process with other threads may leave the child holding locks
                    # that no thread will ever release: let the worker start fresh children.
                    _say({"id": job["id"], "refused": "the zygote has threads"})
                    return ZYGOTE_REFUSED
                started = _fork(job, running)
                running[started.pidfd] = started
                _say({"id": job["id"], "pid": started.pid})
    return 0


def _say(answer: dict) -> None:
    sys.stdout.buffer.write(json.dumps(answer).encode() + b"\n")
    sys.stdout.buffer.flush()


def _fork(job: dict, running: dict[int, _Running]) -> _Running:
    pid = os.fork()
    if pid == 0:
        for pidfd in running:  # the other jobs' children are none of this one's business
            os.close(pidfd)
        _forked_child(job)  # never returns
    deadline = time.monotonic() + job["timeout_s"]
    return _Running(job["id"], pid, os.pidfd_open(pid), deadline)


def _warm_up(operation: str) -> None:
    """Run a warm-up operation (`module:function`, e.g. starting the embedded Tika) in the
    zygote itself, so the children forked after it start warm. A failure is only logged."""
    module_name, _, function_name = operation.partition(":")
    try:
        getattr(importlib.import_module(module_name), function_name)()
    except Exception:
        traceback.print_exc()


def _forkable() -> bool:
    """True when the zygote's only thread is its own, but for runtime threads known to be safe
    to leave behind in a fork while they sleep (see FORK_SAFE_THREADS); waits a moment for one
    that is busy to go back to sleep."""
    for _ in range(50):
        try:
            others = [
                _thread_state(tid)
                for tid in os.listdir("/proc/self/task")
                if tid != str(os.getpid())  # the main thread, which forks
            ]
        except OSError:
            return threading.active_count() == 1
        if any(name not in FORK_SAFE_THREADS for name, _ in others):
            return False
        if all(state == "S" for _, state in others):
            return True
        time.sleep(0.01)
    return False


def _thread_state(tid: str) -> tuple[str, str]:
    """A thread's name and scheduler state (R running, S sleeping, ...), from /proc."""
    with open(f"/proc/self/task/{tid}/stat") as handle:
        stat = handle.read()
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    return name, stat[stat.rindex(")") + 2]


def _answer_ended(job: _Running, *, timed_out: bool) -> None:
    """The job's child has ended, or its time is up: kill its process group (what it started
    must not outlive it), reap it and answer with its exit status as `Popen.returncode` says it."""
    os.close(job.pidfd)
    if not timed_out:
        # Still a zombie after this wait, so its pid (the group's id) cannot be reused yet.
        os.waitid(os.P_PID, job.pid, os.WEXITED | os.WNOWAIT)
    kill_pgid(job.pid)
    _, status = os.waitpid(job.pid, 0)
    returncode = os.waitstatus_to_exitcode(status)
    _say({"id": job.id, "returncode": returncode, "timed_out": timed_out})


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
