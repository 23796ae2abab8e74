"""Keep `edms run`'s processes running: one that dies is started again, the others go on.

A process that exits (a worker killed by the OOM killer, a crashed index writer, even the web
server or the private broker) is started again after a pause that doubles with each quick death
(1 s, 2 s, 4 s … at most a minute) and starts afresh once it has run for a minute; every exit and
restart is logged with the process's name and exit code. A periodic process (the sweeper) is
meant to exit: it is started again `every` seconds after it ended well, and like the others
when it failed. Only SIGTERM, SIGINT or SIGHUP stop everything: the others first, the broker
last, so workers can give their messages back.

`edms run` prepares the installation with Django, then becomes this module (`exec`, same pid):
`python -m edms.supervisor PLAN`, PLAN being the JSON of `plan()`. The supervisor never sets
Django up, so it does not keep a copy of it in memory (~60 MiB) all the while it only watches.
Its lines take edms's log format (edms.logs, which imports neither Django nor Celery): JSON
with `logger` "edms.supervisor" and the process's `process_name` and `pid`, or `edms run: ...`
on a terminal.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import TextIO

from edms import logs
from edms.localbroker import BrokerError, LocalBroker

FIRST_BACKOFF = 1.0
LONGEST_BACKOFF = 60.0
STABLE_AFTER = 60.0  # seconds a process must run before its backoff starts from the beginning
POLL_INTERVAL = 0.5
STOP_TIMEOUT = 30.0  # seconds a process has to finish its work when asked to stop


def spawner(command: list[str], env: dict[str, str] | None = None) -> Callable[[], Popen]:
    """Start `command` in its own process group, so whatever it leaves behind can be reached."""

    def spawn() -> subprocess.Popen:
        return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, start_new_session=True)

    return spawn


@dataclass
class Child:
    """A supervised process: how to start it, and its restart state."""

    name: str
    spawn: Callable[[], subprocess.Popen]
    every: float | None = None  # periodic: seconds from a successful exit to the next start
    process: subprocess.Popen | None = field(default=None, init=False)
    deaths: int = field(default=0, init=False)  # in a row, each after less than STABLE_AFTER
    started_at: float = field(default=0.0, init=False)
    restart_at: float | None = field(default=None, init=False)


class Supervisor:
    def __init__(
        self,
        children: list[Child],
        *,
        broker: LocalBroker | None = None,
        log: TextIO = sys.stderr,
        log_format: str | None = None,
    ):
        """`log_format` (`json` or `text`) defaults to EDMS_LOG_FORMAT's, else to text when
        `log` is a terminal and JSON otherwise (edms.logs)."""
        self.broker = Child("broker", broker.start) if broker is not None else None
        self.children = children
        self.log = _logger(log, log_format or logs.log_format(stream=log))
        self.stopping = False

    def everyone(self) -> list[Child]:
        return ([self.broker] if self.broker else []) + self.children

    def handle_signals(self) -> None:
        """From now on SIGINT, SIGTERM and SIGHUP ask `run` to stop everything, in order."""

        def stop(signum, frame):
            self.stopping = True

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, stop)

    def start(self) -> None:
        """Start the broker (and wait until it answers), then the others.

        A broker that cannot start at all (not installed, data directory in use) raises
        BrokerError: nothing else is started then.
        """
        if self.broker is not None:
            self.broker.process = self.broker.spawn()
            self.broker.started_at = time.monotonic()
        for child in self.children:
            self._start(child)

    def run(self) -> int:
        """Tend the processes until told to stop; then stop them all. Returns the exit status."""
        try:
            while not self.stopping:
                self.tend()
                time.sleep(POLL_INTERVAL)
        finally:
            self.stop()
        return 0

    def tend(self) -> None:
        """Note processes that ended, and start again those whose pause is over."""
        now = time.monotonic()
        for child in self.everyone():
            if child.restart_at is None and child.process.poll() is not None:
                self._ended(child, now)
            if child.restart_at is not None and now >= child.restart_at:
                self._start(child)

    def stop(self) -> None:
        # Everything but the broker at once (each may take a while to finish its task), then
        # the broker, which by then holds every message given back.
        for child in self.children:
            if child.process is not None and child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in self.children:
            _finish(child, deadline)
        if self.broker is not None and self.broker.process is not None:
            if self.broker.process.poll() is None:
                self.broker.process.send_signal(signal.SIGTERM)
            _finish(self.broker, time.monotonic() + STOP_TIMEOUT)

    def _start(self, child: Child) -> None:
        child.restart_at = None
        child.started_at = time.monotonic()
        try:
            child.process = child.spawn()
        except (OSError, BrokerError) as exc:
            self._say(logging.ERROR, f"{child.name} could not start: {exc}", child)
            child.process = None
            self._schedule(child, time.monotonic())
            return
        if child.deaths:
            self._say(logging.INFO, f"{child.name} started again (pid {child.process.pid})", child)

    def _ended(self, child: Child, now: float) -> None:
        code = child.process.returncode
        _kill_group(child.process)  # what it started (a worker's pool processes) goes with it
        if code == 0 and child.every is not None:
            child.deaths = 0
            child.restart_at = now + child.every  # done for now: no news
            return
        how = f"signal {-code} ({signal.strsignal(-code)})" if code < 0 else f"code {code}"
        self._say(
            logging.WARNING, f"{child.name} (pid {child.process.pid}) exited with {how}", child
        )
        self._schedule(child, now)

    def _schedule(self, child: Child, now: float) -> None:
        if now - child.started_at >= STABLE_AFTER:
            child.deaths = 0
        delay = min(FIRST_BACKOFF * 2**child.deaths, LONGEST_BACKOFF)
        child.deaths += 1
        child.restart_at = now + delay
        self._say(logging.INFO, f"{child.name}: next start in {delay:.0f} s", child)

    def _say(self, level: int, message: str, child: Child) -> None:
        pid = child.process.pid if child.process is not None else None
        self.log.log(level, message, extra={"process_name": child.name, "pid": pid})


def _logger(stream: TextIO, fmt: str) -> logging.Logger:
    """The supervisor's own logger, writing to `stream` alone: a `logging.Logger` made here,
    not one of the module tree, so nothing else's configuration adds or takes a handler."""
    handler = logging.StreamHandler(stream)
    text = logging.Formatter("edms run: %(message)s")
    handler.setFormatter(logs.JsonFormatter() if fmt == "json" else text)
    logger = logging.Logger("edms.supervisor", logging.INFO)
    logger.addHandler(handler)
    return logger


def _finish(child: Child, deadline: float) -> None:
    """Wait for a process asked to stop until `deadline`; then kill its whole group."""
    process = child.process
    if process is None:
        return
    try:
        process.wait(timeout=max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        pass
    _kill_group(process)
    process.wait()


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # nothing left of it


# --- `edms run`'s supervisor process ---------------------------------------------------------


def plan(
    children: list[tuple[str, list[str], dict[str, str], float | None]],
    broker: LocalBroker | None,
    *,
    only_env: tuple[str, ...] = (),
) -> str:
    """What `main` starts and tends: (name, command, extra environment, every) per process,
    and the private broker if any. Holds no secret (it is a command-line argument): the
    processes inherit the supervisor's environment, which is `edms run`'s, but those named in
    `only_env`, which get the environment given and nothing else (the sandbox zygote: no
    credentials may reach a parser)."""
    return json.dumps(
        {
            "children": [
                {
                    "name": name,
                    "command": command,
                    "env": env,
                    "every": every,
                    "inherit_env": name not in only_env,
                }
                for name, command, env, every in children
            ],
            "broker": broker and {"socket": str(broker.socket), "data_dir": str(broker.data_dir)},
        }
    )


def _environment(entry: dict) -> dict[str, str] | None:
    if not entry.get("inherit_env", True):
        return entry["env"]
    return {**os.environ, **entry["env"]} if entry["env"] else None


def main(argv: list[str]) -> int:
    """Start what the plan names and tend it until SIGTERM, SIGINT or SIGHUP."""
    (text,) = argv
    wanted = json.loads(text)
    broker = None
    if wanted["broker"]:
        broker = LocalBroker(Path(wanted["broker"]["socket"]), Path(wanted["broker"]["data_dir"]))
    children = [
        Child(
            entry["name"],
            spawner(entry["command"], _environment(entry)),
            every=entry["every"],
        )
        for entry in wanted["children"]
    ]
    team = Supervisor(children, broker=broker)
    team.handle_signals()  # before anything starts: a Ctrl-C then still stops all in order
    try:
        team.start()
    except BrokerError as exc:
        team.log.error(str(exc), extra={"process_name": "broker"})
        return 1
    return team.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
