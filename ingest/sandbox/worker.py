"""The worker's side: run a job in a sandboxed child (forked by the zygote, else a fresh
`python -m ingest.sandbox`) and turn what the child left behind into a result or a
`SandboxFailure` whose reason a person can act on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from ingest.sandbox.processes import Limits, SandboxFailure, child_environment
from ingest.sandbox.zygote import zygote_run

RESULT_FILE = "result.json"
STDERR_FILE = "stderr.txt"
MAX_RESULT_BYTES = 8 * 1024**2
# How a native runtime's fatal error ends a process.
CRASH_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGABRT})
# What out-of-memory looks like from Python, GraalVM (Tika) and native libraries.
OOM_MARKERS = ("MemoryError", "OutOfMemoryError", "NoMemory", "std::bad_alloc", "out of memory")


def run(
    operation: str, params: dict, *, limits: Limits, workdir: str, warm_up: str | None = None
) -> dict:
    """Run `module:function(**params)` in a sandboxed child and return its JSON result.

    `warm_up` names an operation the zygote runs once in itself before forking the child (an
    extractor's `warm_up`), so the child starts with what it would otherwise start for itself."""
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
        "warm_up": warm_up,
    }
    returncode = zygote_run(job)
    if returncode is not None and warm_up and -returncode in CRASH_SIGNALS:
        # The child was a copy of a warm runtime, which the rare file trips over (see
        # zygote_server.FORK_SAFE_THREADS): parse it again in a fresh child before calling it
        # a crash.
        returncode = None
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
            env=child_environment(job["workdir"]),
            start_new_session=True,  # its own process group: a timeout kills all it started
        )
        try:
            child.communicate(json.dumps(job).encode(), timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(child)
            raise SandboxFailure(
                "timed-out", f"timed out after {limits.timeout_s:g} s", exhausted=True
            ) from None
        # Programs the operation started (OCRmyPDF's Tesseract, LibreOffice) must not outlive it.
        _kill_group(child)
    return child.returncode


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
        raise SandboxFailure(
            result["code"],
            result.get("detail", ""),
            transient=result.get("transient", False),
            exhausted=result.get("exhausted", False),
        )
    tail = _tail(stderr_path)
    if any(marker in tail for marker in OOM_MARKERS):
        detail = f"ran out of memory (limit {limits.memory_mib} MiB)"
        raise SandboxFailure("out-of-memory", detail, exhausted=True)
    if returncode < 0:
        raise SandboxFailure(*_signal_reason(-returncode, limits), exhausted=True)
    last_line = tail.strip().splitlines()[-1][:300] if tail.strip() else "no message"
    detail = f"the extractor failed (exit status {returncode}): {last_line}"
    raise SandboxFailure("reader-crashed", detail, exhausted=True)


def _read_result(path: str) -> dict | None:
    try:
        if os.path.getsize(path) > MAX_RESULT_BYTES:
            detail = "the extractor produced an oversized result"
            return {"ok": False, "code": "output-too-large", "detail": detail}
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


def _signal_reason(signum: int, limits: Limits) -> tuple[str, str]:
    """The reason's code and the detail of a child ended by `signum`."""
    if signum == signal.SIGXCPU:
        return "timed-out", f"used more than {limits.timeout_s:g} s of CPU time"
    if signum == signal.SIGXFSZ:
        return "output-too-large", f"tried to write more than {limits.file_mib} MiB"
    if signum == signal.SIGKILL:
        # Not our timeout (that is reported above): the kernel's OOM killer, most likely.
        detail = f"was killed (SIGKILL), most likely out of memory (limit {limits.memory_mib} MiB)"
        return "out-of-memory", detail
    return "reader-crashed", f"the extractor crashed ({signal.Signals(signum).name})"
