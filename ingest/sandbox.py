"""Untrusted-file work in a child process, with a wall-clock timeout and a memory cap.

The parent (a Celery worker, or a test) calls `run(operation, params, limits=..., workdir=...)`;
it starts `python -m ingest.sandbox` in its own session with a minimal environment (no database
credentials, no secrets), hands it a JSON job on stdin and waits at most `limits.timeout_s`.
The child caps itself before importing any parser:

- memory: `RLIMIT_DATA` (heap and private writable mappings). Not `RLIMIT_AS`: the embedded Tika
  (a GraalVM native image) reserves ~32 GiB of address space up front and commits only what it
  uses, so an address-space cap would refuse every file while a data cap bounds real use;
- CPU time (a backstop should the parent die), file size, no core dumps;
- network: a fresh, empty network namespace when the kernel allows it (root, or unprivileged
  user namespaces), so no parser can fetch anything (XXE, remote images);
- it dies with its parent (`PR_SET_PDEATHSIG`).

Starting Python and importing the parsers' modules took most of a small file's time (a third of
a second per step; OCRmyPDF alone half a second), so each worker process keeps one *zygote*: a
child started the same way (same minimal environment, its own session, dying with the worker)
that has imported those modules and nothing else runs in, and that forks a fresh child per job.
The forked child then does what a fresh one does (its own session, limits, empty network
namespace, death with its parent) and runs one job only: no file ever sees a process another
file ran in. Native runtimes that start threads (the embedded Tika's GraalVM isolate) are
started in the forked child, never in the zygote; the zygote refuses to fork once it has more
than one thread, and the worker then falls back to a fresh `python -m ingest.sandbox` child.

Whatever happens inside (a parser crash, an out-of-memory abort, an endless loop) the parent gets
either the operation's JSON result or a `SandboxFailure` whose reason a person can act on.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import resource
import select
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

from ingest.extractors.base import ExtractionFailed, ExtractorUnavailable

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESULT_FILE = "result.json"
STDERR_FILE = "stderr.txt"
MAX_RESULT_BYTES = 8 * 1024**2
# What out-of-memory looks like from Python, GraalVM (Tika) and native libraries.
OOM_MARKERS = ("MemoryError", "OutOfMemoryError", "NoMemory", "std::bad_alloc", "out of memory")
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


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 120
    memory_mib: int = 1024
    file_mib: int = 2048
    isolate_network: bool = True
    # Added to the child's niceness: work nobody waits for (renditions) yields the CPU to work
    # that makes a document searchable.
    nice: int = 0


class SandboxFailure(Exception):
    """The operation did not produce a result; `reason` says why, for a person."""

    def __init__(self, reason: str, *, transient: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


# --- Parent side ------------------------------------------------------------------------------


def run(operation: str, params: dict, *, limits: Limits, workdir: str) -> dict:
    """Run `module:function(**params)` in a sandboxed child and return its JSON result."""
    result_path = os.path.join(workdir, RESULT_FILE)
    stderr_path = os.path.join(workdir, STDERR_FILE)
    for stale in (result_path, stderr_path):
        if os.path.exists(stale):
            os.unlink(stale)
    job = {
        "operation": operation,
        "params": params,
        "result_path": result_path,
        "stderr_path": stderr_path,
        "workdir": workdir,
        "timeout_s": limits.timeout_s,
        "memory_mib": limits.memory_mib,
        "cpu_s": int(limits.timeout_s) + 5,
        "file_mib": limits.file_mib,
        "isolate_network": limits.isolate_network,
        "nice": limits.nice,
    }
    returncode = _zygote_run(job)
    if returncode is None:
        returncode = _fresh_run(job, limits)
    return _outcome(returncode, result_path, stderr_path, limits)


def _fresh_run(job: dict, limits: Limits) -> int:
    """The job in a fresh `python -m ingest.sandbox` child; its exit status."""
    with open(job["stderr_path"], "wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "ingest.sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=job["workdir"],
            env=_child_environment(job["workdir"]),
            start_new_session=True,  # its own process group: a timeout kills all it started
        )
        try:
            child.communicate(json.dumps(job).encode(), timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(child)
            raise SandboxFailure(f"timed out after {limits.timeout_s:g} s") from None
        # Programs the operation started (OCRmyPDF's Tesseract, LibreOffice) must not outlive it.
        _kill_group(child)
    return child.returncode


def _child_environment(workdir: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": workdir,
        "TMPDIR": workdir,
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        # Tesseract's OpenMP threads would multiply its memory and fight the worker's processes.
        "OMP_THREAD_LIMIT": "1",
    }
    # The worker's virtualenv, and Tesseract's data packs where the worker found them.
    for name in ("VIRTUAL_ENV", "TESSDATA_PREFIX"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _kill_group(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()


def _outcome(returncode: int, result_path: str, stderr_path: str, limits: Limits) -> dict:
    result = _read_result(result_path)
    if result is not None:
        if result.get("ok"):
            return result["result"]
        raise SandboxFailure(result["reason"], transient=result.get("transient", False))
    tail = _tail(stderr_path)
    if any(marker in tail for marker in OOM_MARKERS):
        raise SandboxFailure(f"ran out of memory (limit {limits.memory_mib} MiB)")
    if returncode < 0:
        raise SandboxFailure(_signal_reason(-returncode, limits))
    last_line = tail.strip().splitlines()[-1][:300] if tail.strip() else "no message"
    raise SandboxFailure(f"the extractor failed (exit status {returncode}): {last_line}")


def _read_result(path: str) -> dict | None:
    try:
        if os.path.getsize(path) > MAX_RESULT_BYTES:
            return {"ok": False, "reason": "the extractor produced an oversized result"}
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _tail(path: str, size: int = 8192) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(path) - size))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _signal_reason(signum: int, limits: Limits) -> str:
    if signum == signal.SIGXCPU:
        return f"used more than {limits.timeout_s:g} s of CPU time"
    if signum == signal.SIGXFSZ:
        return f"tried to write more than {limits.file_mib} MiB"
    if signum == signal.SIGKILL:
        # Not our timeout (that is reported above): the kernel's OOM killer, most likely.
        return f"was killed (SIGKILL), most likely out of memory (limit {limits.memory_mib} MiB)"
    return f"the extractor crashed ({signal.Signals(signum).name})"


# --- The zygote, worker side ------------------------------------------------------------------


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
            env=_child_environment(tempfile.gettempdir()),
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
                _kill_pgid(started["pid"])  # the job must not outlive a zygote that hangs
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
        _kill_pgid(self.process.pid)
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            pipe.close()


_zygote: _Zygote | None = None
_zygote_refused = False
_zygote_lock = threading.Lock()


def _zygote_run(job: dict) -> int | None:
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


def _kill_pgid(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --- The zygote, its side ---------------------------------------------------------------------

ZYGOTE_REFUSED = 3


def zygote_main() -> int:
    """Import the parsers' modules, then fork a child per job line read on stdin and answer
    `{"pid"}` when it starts and `{"returncode", "timed_out"}` when it has ended."""
    _die_with_parent()
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
    _kill_pgid(pid)
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
        _run_job(job)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


# --- Child side -------------------------------------------------------------------------------


def _apply_limits(job: dict) -> None:
    memory = job["memory_mib"] * 1024**2
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (job["cpu_s"], job["cpu_s"] + 5))
    file_size = job["file_mib"] * 1024**2
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if job.get("nice"):
        os.nice(job["nice"])  # inherited by what the operation starts (LibreOffice)
    _die_with_parent()


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _isolate_network() -> bool:
    """Move into an empty network namespace: only a loopback that is down. True on success."""
    clone_newuser, clone_newnet = 0x10000000, 0x40000000
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    for flags in (clone_newnet, clone_newuser | clone_newnet):
        if libc.unshare(flags) == 0:
            return True
    return False


def _write_result(path: str, payload: dict) -> None:
    partial = f"{path}.part"
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
    os.replace(partial, path)


def child_main() -> int:
    _run_job(json.loads(sys.stdin.read()))
    return 0


def _run_job(job: dict) -> None:
    _apply_limits(job)
    isolated = _isolate_network() if job["isolate_network"] else False
    module_name, _, function_name = job["operation"].partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
        payload = {"ok": True, "result": function(**job["params"])}
    except ExtractionFailed as exc:
        payload = {"ok": False, "reason": exc.reason}
    except ExtractorUnavailable as exc:
        payload = {"ok": False, "reason": str(exc), "transient": True}
    except MemoryError:
        payload = {"ok": False, "reason": f"ran out of memory (limit {job['memory_mib']} MiB)"}
    except Exception as exc:
        traceback.print_exc()
        payload = {"ok": False, "reason": f"the extractor failed: {type(exc).__name__}: {exc}"}
    payload["network_isolated"] = isolated
    _write_result(job["result_path"], payload)


if __name__ == "__main__":
    code = zygote_main() if sys.argv[1:] == ["--zygote"] else child_main()
    sys.stderr.flush()
    # Skip the interpreter's teardown (~150 ms of finalising native modules): the result is
    # written and nothing else needs flushing.
    os._exit(code)
