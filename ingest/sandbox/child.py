"""The job's own process (a fresh child, or one the zygote forked): it caps itself (memory, CPU
time, file size, no core dumps), dies with its parent, moves into an empty network namespace
where the kernel allows, runs one operation and writes its JSON result."""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import resource
import signal
import sys
import traceback

from ingest.extractors.base import ExtractionFailed, ExtractorUnavailable


def _apply_limits(job: dict) -> None:
    memory = job["memory_mib"] * 1024**2
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (job["cpu_s"], job["cpu_s"] + 5))
    file_size = job["file_mib"] * 1024**2
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if job.get("nice"):
        os.nice(job["nice"])  # inherited by what the operation starts (LibreOffice)
    die_with_parent()


def die_with_parent() -> None:
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
    run_job(json.loads(sys.stdin.read()))
    return 0


def run_job(job: dict) -> None:
    _apply_limits(job)
    isolated = _isolate_network() if job["isolate_network"] else False
    module_name, _, function_name = job["operation"].partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
        payload = {"ok": True, "result": function(**job["params"])}
    except ExtractionFailed as exc:
        payload = {"ok": False, "code": exc.code, "detail": exc.detail}
    except ExtractorUnavailable as exc:
        payload = {"ok": False, "code": "gave-up-retrying", "detail": str(exc), "transient": True}
    except MemoryError:
        detail = f"ran out of memory (limit {job['memory_mib']} MiB)"
        payload = {"ok": False, "code": "out-of-memory", "detail": detail, "exhausted": True}
    except Exception as exc:
        traceback.print_exc()
        detail = f"the extractor failed: {type(exc).__name__}: {exc}"[:2000]
        payload = {"ok": False, "code": "reader-crashed", "detail": detail}
    payload["network_isolated"] = isolated
    _write_result(job["result_path"], payload)
