"""What the sandbox's processes share: the job's limits, how a failure reads, the minimal
environment every child starts with, and how a child's process group is killed."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

from ingest.reasons import ReasonedFailure

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 120
    memory_mib: int = 1024
    file_mib: int = 2048
    isolate_network: bool = True
    # Added to the child's niceness: work nobody waits for (renditions) yields the CPU to work
    # that makes a document searchable.
    nice: int = 0


class SandboxFailure(ReasonedFailure):
    """The operation did not produce a result: a catalogue reason's code (`ingest.reasons`) and
    the raw detail. `exhausted`: the sandbox ended the child (a timeout, the memory cap, a
    signal, an exit without a result), rather than the operation refusing the file.
    `transient`: the engine could not be reached (the detail says why); try again later."""

    def __init__(
        self, code: str, detail: str = "", *, transient: bool = False, exhausted: bool = False
    ):
        super().__init__(code, detail)
        self.transient = transient
        self.exhausted = exhausted


def child_environment(workdir: str) -> dict[str, str]:
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


def kill_pgid(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
