"""Extractors that behave like hostile files do, for the sandbox tests.

They run inside the sandbox child (imported there by name from `EDMS_EXTRACTOR`), so this module
must not import Django models or test fixtures.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time

from ingest.extractors import BaseExtractor, Extraction


class GreedyExtractor(BaseExtractor):
    """Allocates without bound, like a decompression bomb."""

    name = "greedy"

    def extract(self, path: str, *, max_chars: int) -> Extraction:
        hoard = []
        while True:
            hoard.append(bytearray(64 * 1024**2))


class SleepyExtractor(BaseExtractor):
    """Never finishes, like a parser caught in a loop."""

    name = "sleepy"

    def extract(self, path: str, *, max_chars: int) -> Extraction:
        while True:
            time.sleep(60)


class CrashingExtractor(BaseExtractor):
    """Dies of a signal, like a native parser hitting a bug."""

    name = "crashing"

    def extract(self, path: str, *, max_chars: int) -> Extraction:
        os.abort()


class PhoningHomeExtractor(BaseExtractor):
    """Tries to reach a service on this machine, like an XML external entity would."""

    name = "phoning-home"
    OPTIONS = {"port": 5432}

    def extract(self, path: str, *, max_chars: int) -> Extraction:
        try:
            with socket.create_connection(("127.0.0.1", self.options["port"]), timeout=2):
                outcome = "connected"
        except OSError as exc:
            outcome = f"blocked: {exc}"
        return Extraction(text=outcome, media_type="text/plain")


class EnvironmentExtractor(BaseExtractor):
    """Reports the environment it sees, to show that no secrets are handed to the child."""

    name = "environment"

    def extract(self, path: str, *, max_chars: int) -> Extraction:
        return Extraction(text="\n".join(f"{k}={v}" for k, v in sorted(os.environ.items())))


class GatedExtractor(BaseExtractor):
    """Waits until the file `gate` exists, like a long OCR run, then extracts a fixed text."""

    name = "gated"
    OPTIONS = {"gate": ""}

    def extract(self, path: str, *, max_chars: int) -> Extraction:
        while not os.path.exists(self.options["gate"]):
            time.sleep(0.2)
        return Extraction(text="opened at last", media_type="text/plain")


def process_identity() -> dict:
    """A sandbox operation reporting which process ran it (the zygote tests)."""
    return {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "pgid": os.getpgrp(),
        "threads": len(os.listdir("/proc/self/task")),
        "niceness": os.nice(0),
    }


def modules_loaded(names: list[str]) -> dict:
    """A sandbox operation reporting which of the modules `names` its process holds (imported
    by the zygote it was forked from: the job imports nothing itself)."""
    return {"loaded": [name for name in names if name in sys.modules]}


def identity_at_gate(gate: str) -> dict:
    """`process_identity`, once the file `gate` exists (jobs that run at the same time)."""
    while not os.path.exists(gate):
        time.sleep(0.05)
    return process_identity()


# Set by `mark_warm` in the zygote, so in every child forked from it after (the zygote tests).
_warm = False


def mark_warm() -> None:
    """A warm-up operation: marks the zygote's state, which its children then inherit."""
    global _warm
    _warm = True


def crash_if_warm() -> dict:
    """Dies as a native runtime's fatal error does, but only in a child of a warmed zygote; in a
    fresh child it reports which process ran it."""
    if _warm:
        os.kill(os.getpid(), signal.SIGSEGV)
    return {**process_identity(), "warm": _warm}
