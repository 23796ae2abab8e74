"""The zygote: a process that has imported the parsers' modules once and forks a fresh child per
job (see the package's docstring for why). By default each worker process starts one of its own
(a child of the worker, talking over a pipe). `edms run` starts one for all its workers instead
(`--listen`, a Unix socket named to the workers by SHARED_ZYGOTE_ENV): a warm zygote holds a
started Tika (~100 MiB), and one is enough for a machine. This module is the worker's handle on
it; `zygote_server` is the zygote itself."""

from __future__ import annotations

import itertools
import json
import os
import queue
import socket
import struct
import subprocess
import sys
import tempfile
import threading

from ingest.sandbox.processes import SandboxFailure, child_environment, kill_pgid
from ingest.sandbox.zygote_server import ZYGOTE_REFUSED

# How long past a job's own timeout the worker waits for the zygote to answer before it gives
# up on it (the zygote enforces the timeout itself; this only covers a zygote that hangs).
ZYGOTE_GRACE_S = 30
# Set in a worker's environment: the socket of a zygote shared by all the machine's workers,
# started by `edms run` (`python -m ingest.sandbox --zygote --listen PATH`). Unset: the worker
# starts a zygote of its own.
SHARED_ZYGOTE_ENV = "EDMS_SANDBOX_ZYGOTE_SOCKET"


class _Zygote:
    """The worker's handle on a zygote, shared by the worker's threads: each job is a request
    tagged with an id, written under a lock; one reader thread hands each answer to the thread
    waiting for that id. The zygote is the worker's own child (`start`) or one shared by the
    machine's workers, reached on its socket (`connect`)."""

    def __init__(self, pid: int, reader, write, close, process=None) -> None:
        self.owner = os.getpid()
        self.pid = pid
        self.process = process  # the worker's own zygote; None for a shared one
        self.lock = threading.Lock()  # `waiting` and `stopped`
        self.write_lock = threading.Lock()  # the request channel
        self.waiting: dict[int, queue.SimpleQueue] = {}
        self.next_id = itertools.count(1)
        self.stopped = False
        self._reader, self._write, self._close = reader, write, close
        self._closed = False
        threading.Thread(target=self._dispatch, name="sandbox-zygote", daemon=True).start()

    @classmethod
    def start(cls) -> _Zygote:
        process = subprocess.Popen(
            [sys.executable, "-m", "ingest.sandbox", "--zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=tempfile.gettempdir(),
            env=child_environment(tempfile.gettempdir()),
            start_new_session=True,
        )

        def write(data: bytes) -> None:
            process.stdin.write(data)
            process.stdin.flush()

        return cls(process.pid, process.stdout, write, process.stdin.close, process)

    @classmethod
    def connect(cls, path: str) -> _Zygote:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(path)
            credentials = connection.getsockopt(
                socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
            )
        except OSError:
            connection.close()
            raise
        pid, _, _ = struct.unpack("3i", credentials)
        reader = connection.makefile("rb")

        def close() -> None:
            try:
                connection.shutdown(socket.SHUT_RDWR)  # wakes the reader thread
            except OSError:
                pass
            connection.close()

        return cls(pid, reader, connection.sendall, close)

    def alive(self) -> bool:
        if self.owner != os.getpid() or self.stopped:
            return False
        return self.process is None or self.process.poll() is None

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
            detail = f"timed out after {job['timeout_s']:g} s"
            raise SandboxFailure("timed-out", detail, exhausted=True)
        return ended["returncode"]

    def _send(self, request: dict) -> None:
        with self.write_lock:
            if self._closed:
                raise OSError("the sandbox zygote was stopped")
            self._write(json.dumps(request).encode() + b"\n")

    def _dispatch(self) -> None:
        """The reader thread: each answer line to the job it names; at the zygote's end, tell
        every job still waiting (None) so it falls back to a fresh child."""
        try:
            for line in self._reader:
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
            self._reader.close()

    def stop(self) -> None:
        """Called when the zygote refused, hung or broke its channel: kill it (first, so a
        thread blocked writing to it is let go). A shared one is started again by `edms run`."""
        with self.lock:
            self.stopped = True
        kill_pgid(self.pid)
        with self.write_lock:
            if not self._closed:
                self._closed = True
                self._close()
        if self.process is not None:
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
    """Run the job in a child forked by the zygote: the machine's shared one when the
    environment names its socket, else this process's own (started on first use, again if it
    died). A zygote runs the jobs of all its workers' threads at once. None: no zygote could take
    it (none answers on the socket, it refused, or died); the caller starts a fresh child."""
    global _zygote
    shared = os.environ.get(SHARED_ZYGOTE_ENV)
    with _zygote_lock:
        if _zygote_refused and not shared:
            return None
        if _zygote is None or not _zygote.alive():
            _zygote = None
            try:
                _zygote = _Zygote.connect(shared) if shared else _Zygote.start()
            except OSError:
                return None  # a shared zygote being started again by `edms run`
        zygote = _zygote
    returncode = zygote.run(job)
    if returncode is None and zygote.process is not None and zygote.process.poll() is not None:
        _note_refusal(zygote.process)
    return returncode


def _note_refusal(process: subprocess.Popen) -> None:
    global _zygote_refused
    if process.returncode == ZYGOTE_REFUSED:
        _zygote_refused = True


def zygote_pid() -> int | None:
    """The pid of the zygote this process uses, if it has one running (tests and diagnostics)."""
    zygote = _zygote
    return zygote.pid if zygote is not None and zygote.alive() else None
