"""The embedded default's Celery broker: a private Redis on a Unix socket in the data directory.

Why not kombu's filesystem transport (the broker of earlier versions): it writes each message
into a shared folder in place, so a worker listing the folder can read one half-written
(`JSONDecodeError`, a known race), and it has no way to give a message back when the worker that
took it dies. Redis hands each message to exactly one consumer atomically, keeps the ones taken but
not yet acknowledged (`acks_late`) and gives them back when their worker is gone, and its
append-only file (AOF) makes every accepted message survive a crash. It listens on a Unix socket
only (`port 0`), so nothing is exposed on the network and the data directory's permissions guard
it; its data lives under the data directory like everything else of the embedded default.

`edms run` starts it first and stops it last; the test session starts one the same way
(tests/conftest.py). Production names its own broker in CELERY_BROKER_URL and none is started.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REDIS_SERVER = "redis-server"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
# sockaddr_un.sun_path holds 108 bytes, the terminating NUL included.
SOCKET_PATH_MAX = 107


class BrokerError(RuntimeError):
    """The private broker cannot be started (what to do is in the message)."""


def socket_path(data_dir: Path) -> Path:
    return Path(data_dir) / "run" / "broker.sock"


def broker_url(socket: Path) -> str:
    """kombu's form for Redis on a Unix socket: `redis+socket://` + the absolute path."""
    return f"redis+socket://{socket}"


@dataclass
class LocalBroker:
    """One private `redis-server`: its socket, its data folder (the AOF) and its process."""

    socket: Path
    data_dir: Path
    log_path: Path | None = None  # None: Redis logs to our standard output
    process: subprocess.Popen | None = field(default=None, init=False)

    @classmethod
    def for_data_dir(cls, data_dir: Path, log_path: Path | None = None) -> LocalBroker:
        return cls(socket_path(data_dir), Path(data_dir) / "broker", log_path)

    def command(self, executable: str) -> list[str]:
        return [
            executable,
            "--port",
            "0",  # no TCP listener at all: only the socket below
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.data_dir),
            "--appendonly",
            "yes",
            # fsync before answering: a message Redis said it stored survives a power cut, not
            # only a crash. Redis groups the writes of all clients into one fsync per event-loop
            # round, so it stays cheap (measured here: ~0.5 ms a write, >2,000 writes/s, against
            # tasks that take tens of milliseconds at least); `everysec` could lose the last
            # second of queued work, which only the sweeper would find again, minutes later.
            "--appendfsync",
            "always",
            # The AOF is the record; no RDB snapshots besides it.
            "--save",
            "",
            # A torn last write after a power cut is dropped, the rest loaded (Redis's default,
            # stated because the broker must come back on its own).
            "--aof-load-truncated",
            "yes",
            # Never evict: a queued message is never dropped to save memory.
            "--maxmemory-policy",
            "noeviction",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
            "--logfile",
            str(self.log_path) if self.log_path else "",
            "--always-show-logo",
            "no",
        ]

    def check(self) -> str:
        """The redis-server to run; BrokerError saying what to do if it cannot start here."""
        executable = shutil.which(REDIS_SERVER)
        if executable is None:
            raise BrokerError(
                "redis-server is not installed; the embedded default's Celery broker needs it. "
                "Install Debian's package (`sudo apt-get install redis-server`, or run "
                "infra/install-system-packages.sh as root), or set CELERY_BROKER_URL to a broker."
            )
        if len(os.fsencode(self.socket)) > SOCKET_PATH_MAX:
            raise BrokerError(
                f"the broker's socket path {self.socket} is longer than {SOCKET_PATH_MAX} bytes "
                "(a Unix socket limit); use a shorter EDMS_DATA_DIR"
            )
        if self.answers():
            raise BrokerError(
                f"a broker already answers on {self.socket}: another `edms run` (or test run) "
                "uses this data directory; stop it, or use another EDMS_DATA_DIR"
            )
        return executable

    def start(self) -> subprocess.Popen:
        """Start Redis and wait until it answers; raise BrokerError with the reason if it cannot."""
        executable = self.check()
        self.socket.parent.mkdir(parents=True, exist_ok=True)
        self.socket.parent.chmod(0o700)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)  # left by a Redis that was killed
        self.process = subprocess.Popen(
            self.command(executable),
            stdin=subprocess.DEVNULL,
            # Its own process group: a Ctrl-C in the terminal reaches `edms run` only, which
            # stops the broker last, after the workers have given back their messages.
            start_new_session=True,
        )
        self._wait_ready()
        return self.process

    def answers(self) -> bool:
        """True if a Redis answers PING on the socket (not while it is still loading its AOF)."""
        if not self.socket.exists():
            return False
        # A bare PING rather than redis-py's client: the supervisor, which starts the broker and
        # runs all the while, would otherwise hold redis-py (~17 MiB) for this alone.
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.settimeout(2)
                client.connect(str(self.socket))
                client.sendall(b"PING\r\n")
                return client.recv(64).startswith(b"+PONG")
        except OSError:  # refused, gone, or timed out
            return False

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while not self.answers():
            if self.process.poll() is not None:
                raise BrokerError(
                    f"redis-server exited with {self.process.returncode} at start"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerError(f"redis-server did not answer on {self.socket} in time")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM: Redis flushes and fsyncs its AOF, then exits; killed if it hangs."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        self.socket.unlink(missing_ok=True)


@contextmanager
def running(data_dir: Path, log_path: Path | None = None) -> Iterator[LocalBroker]:
    """The private broker of `data_dir`, for a program that runs the embedded default itself
    (the benchmarks): started when entered, stopped when left. It logs to `run/broker.log`."""
    broker = LocalBroker.for_data_dir(
        data_dir, log_path or socket_path(data_dir).parent / "broker.log"
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
