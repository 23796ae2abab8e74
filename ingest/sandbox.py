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

Whatever happens inside (a parser crash, an out-of-memory abort, an endless loop) the parent gets
either the operation's JSON result or a `SandboxFailure` whose reason a person can act on.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import resource
import signal
import subprocess
import sys
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


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 120
    memory_mib: int = 1024
    file_mib: int = 2048
    isolate_network: bool = True


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
        "memory_mib": limits.memory_mib,
        "cpu_s": int(limits.timeout_s) + 5,
        "file_mib": limits.file_mib,
        "isolate_network": limits.isolate_network,
    }
    with open(stderr_path, "wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "ingest.sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=workdir,
            env=_child_environment(workdir),
            start_new_session=True,  # its own process group: a timeout kills all it started
        )
        try:
            child.communicate(json.dumps(job).encode(), timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(child)
            raise SandboxFailure(f"timed out after {limits.timeout_s:g} s") from None
        # Programs the operation started (OCRmyPDF's Tesseract, LibreOffice) must not outlive it.
        _kill_group(child)
    return _outcome(child.returncode, result_path, stderr_path, limits)


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


# --- Child side -------------------------------------------------------------------------------


def _apply_limits(job: dict) -> None:
    memory = job["memory_mib"] * 1024**2
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (job["cpu_s"], job["cpu_s"] + 5))
    file_size = job["file_mib"] * 1024**2
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
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
    job = json.loads(sys.stdin.read())
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
    return 0


if __name__ == "__main__":
    code = child_main()
    sys.stderr.flush()
    # Skip the interpreter's teardown (~150 ms of finalising native modules): the result is
    # written and nothing else needs flushing.
    os._exit(code)
