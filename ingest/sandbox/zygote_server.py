"""The zygote itself: imports the parsers' modules once (and runs a warm-up, e.g. starting the
embedded Tika, on the first job that asks), then forks a fresh child per job, several at once,
enforcing each job's timeout. `zygote` is the workers' handle on it."""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass

from ingest.sandbox.child import die_with_parent, run_job
from ingest.sandbox.processes import kill_pgid

# Imported once by the zygote, before it forks: Python modules only, none starts a thread. Every
# child is a copy of the zygote, and a forked child's RSS counts the zygote's whole resident heap
# again, so what only some jobs use is loaded by those jobs' warm-up instead (OCRmyPDF, ~20 MiB
# of heap: `ingest.ocr.preload`, run in the zygote at the first OCR job).
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
)
# The zygote's exit status when it refuses to fork (it has threads).
ZYGOTE_REFUSED = 3
# Threads a warm-up may leave in the zygote that a fork can leave behind while they sleep: the
# embedded Tika's GraalVM reference handler (named from the end: "Reference Handler" cut to 15
# characters), parked until a garbage collection hands it references. A child forked then has
# only the forking thread; should its runtime trip over the missing one (seen: archives whose
# parser starts threads), it dies by a signal and the worker parses the file again in a fresh
# child (`ingest.sandbox.worker`).
FORK_SAFE_THREADS = frozenset({"ference Handler"})


@dataclass
class _Channel:
    """Where a worker's requests come from and its answers go: the pipe of the worker that
    started the zygote, or one worker's connection to a shared zygote."""

    fd: int  # read from
    connection: socket.socket | None = None  # None: answers go to standard output
    pending: bytes = b""
    ended: bool = False  # no more requests will come
    open: bool = True  # answers can still be sent

    def say(self, answer: dict) -> None:
        if not self.open:
            return  # its worker is gone: nobody waits for the answer
        data = json.dumps(answer).encode() + b"\n"
        if self.connection is None:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        try:
            self.connection.sendall(data)
        except OSError:
            self.close()

    def close(self) -> None:
        """No more requests. A connection is gone with its worker; standard output still takes
        the answers of jobs running (the worker may be stopping and wait for them)."""
        self.ended = True
        if self.connection is not None:
            self.open = False
            self.connection.close()


@dataclass
class _Running:
    """A job the zygote forked: its id, child, the child's pidfd, when its time is up and whom
    to answer."""

    id: int
    pid: int
    pidfd: int
    deadline: float
    channel: _Channel


def zygote_main(listen: str | None = None) -> int:
    """Import the parsers' modules, then fork a child per job line a worker sends, several at
    once: answer `{"id", "pid"}` when one starts and `{"id", "returncode", "timed_out"}` when it
    has ended (its own timeout enforced), waiting on the workers and the children's pidfds
    together. Requests come on stdin, or with `listen` from the workers connected to that Unix
    socket (the zygote then serves until it is stopped)."""
    die_with_parent()
    for name in PRELOADED:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # an optional tool that is not installed: its job will say so
    _freeze_heap()
    listener = _listen(listen) if listen else None
    stopping = _stop_signal() if listen else None
    channels: dict[int, _Channel] = {}  # by fd
    if listener is None:
        stdin = sys.stdin.buffer.fileno()
        channels[stdin] = _Channel(stdin)
    running: dict[int, _Running] = {}  # by pidfd
    warmed: set[str] = set()
    while listener is not None or channels or running:
        if stopping and listener is not None:
            # Asked to stop (with the workers): take no new worker, serve those still
            # connected until they have finished their tasks and gone.
            listener.close()
            os.unlink(listen)
            listener = None
            continue  # with no worker connected and no job running, that is the end
        deadlines = [job.deadline for job in running.values()]
        if listener is not None:
            deadlines.append(time.monotonic() + 1.0)  # look at `stopping` now and then
        timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        watched = list(running) + list(channels) + ([listener.fileno()] if listener else [])
        ready, _, _ = select.select(watched, [], [], timeout)
        for fd in ready:
            if fd in running:
                _answer_ended(running.pop(fd), timed_out=False)
        now = time.monotonic()
        for fd, job in list(running.items()):
            if fd not in ready and job.deadline <= now:
                _answer_ended(running.pop(fd), timed_out=True)
        if listener is not None and listener.fileno() in ready:
            connection, _ = listener.accept()
            channels[connection.fileno()] = _Channel(connection.fileno(), connection)
        for fd in ready:
            channel = channels.get(fd)
            if channel is None:
                continue
            for job in _requests(channel):
                if job.get("warm_up") and job["warm_up"] not in warmed:
                    warmed.add(job["warm_up"])  # tried once: if it fails, children stay cold
                    _warm_up(job["warm_up"])
                    _freeze_heap()
                if not _forkable():
                    # Forking a process with other threads may leave the child holding locks
                    # that no thread will ever release: let the workers start fresh children.
                    channel.say({"id": job["id"], "refused": "the zygote has threads"})
                    return ZYGOTE_REFUSED
                started = _fork(job, channel, _not_inherited(running, channels, listener))
                running[started.pidfd] = started
                channel.say({"id": job["id"], "pid": started.pid})
            if channel.ended:
                del channels[fd]  # the worker is gone or stopping: its running jobs finish
    return 0


def _stop_signal() -> list[int]:
    """A list that SIGTERM or SIGINT appends to: the shared zygote stops gracefully."""
    received: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, frame: received.append(signum))
    return received


def _listen(path: str) -> socket.socket:
    """The shared zygote's socket, for this user only (a stale one of a killed run replaced)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    umask = os.umask(0o177)
    try:
        listener.bind(path)
    finally:
        os.umask(umask)
    listener.listen(16)
    return listener


def _requests(channel: _Channel) -> list[dict]:
    """The whole request lines the channel has to read now; at its end, the channel closes."""
    try:
        chunk = os.read(channel.fd, 65536)
    except OSError:
        chunk = b""  # a connection reset by a worker that died
    if not chunk:
        channel.close()
        return []
    channel.pending += chunk
    *lines, channel.pending = channel.pending.split(b"\n")
    return [json.loads(line) for line in lines]


def _not_inherited(
    running: dict[int, _Running], channels: dict[int, _Channel], listener: socket.socket | None
) -> list[int]:
    """The zygote's descriptors a child closes: the other jobs' children and the workers'
    connections are none of its business (a child holding a connection would also keep a
    worker from seeing its zygote end). Standard input and output are replaced in the child."""
    connections = [fd for fd, channel in channels.items() if channel.connection is not None]
    return [*running, *connections, *([listener.fileno()] if listener else [])]


def _fork(job: dict, channel: _Channel, not_inherited: list[int]) -> _Running:
    pid = os.fork()
    if pid == 0:
        for fd in not_inherited:
            os.close(fd)
        _forked_child(job)  # never returns
    deadline = time.monotonic() + job["timeout_s"]
    return _Running(job["id"], pid, os.pidfd_open(pid), deadline, channel)


def _warm_up(operation: str) -> None:
    """Run a warm-up operation (`module:function`, e.g. starting the embedded Tika) in the
    zygote itself, so the children forked after it start warm. A failure is only logged."""
    module_name, _, function_name = operation.partition(":")
    try:
        getattr(importlib.import_module(module_name), function_name)()
    except Exception:
        traceback.print_exc()


def _freeze_heap() -> None:
    """Move the objects the zygote holds now out of the garbage collector's sight: a child's
    collection would otherwise write to every one of them (their reference counts and links),
    copying the pages it shares with the zygote into its own memory."""
    gc.collect()
    gc.freeze()


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
    job.channel.say({"id": job.id, "returncode": returncode, "timed_out": timed_out})


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
