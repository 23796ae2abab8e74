"""edms.supervisor with real processes: what dies is started again, later each time it dies
quickly; the broker too; stopping leaves nothing running. (`edms run` itself: test_launcher.)"""

from __future__ import annotations

import io
import signal
import sys

import psutil

from edms.localbroker import LocalBroker
from edms.supervisor import Child, Supervisor, spawner
from tests.services import wait_until

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
CRASHER = [sys.executable, "-c", "import sys; sys.exit(3)"]


def _tended(team: Supervisor, log: io.StringIO, said: str, times: int = 1):
    def probe():
        team.tend()
        return log.getvalue().count(said) >= times

    return probe


def test_a_process_that_keeps_dying_waits_longer_each_time_and_the_others_go_on():
    log = io.StringIO()
    sleeper = Child("sleeper", spawner(SLEEPER))
    crasher = Child("crasher", spawner(CRASHER))
    team = Supervisor([sleeper, crasher], log=log, log_format="text")
    team.start()
    try:
        wait_until(
            _tended(team, log, "exited with code 3", times=3),
            timeout=60,
            what="three deaths",
            explain=log.getvalue,
        )
        said = log.getvalue()
        delays = [line.rsplit("in ", 1)[1] for line in said.splitlines() if "next start" in line]
        assert delays[:3] == ["1 s", "2 s", "4 s"]
        assert "crasher started again" in said
        assert sleeper.process.poll() is None  # never stopped because another one died
        assert "sleeper" not in said
    finally:
        team.stop()
    assert sleeper.process.poll() is not None


def test_a_periodic_process_runs_again_after_its_interval_and_quietly(tmp_path):
    log = io.StringIO()
    runs = tmp_path / "runs"
    one_pass = [sys.executable, "-c", f"open({str(runs)!r}, 'a').write('pass\\n')"]
    sweeper = Child("sweeper", spawner(one_pass), every=0.5)
    team = Supervisor([sweeper], log=log, log_format="text")
    team.start()
    try:
        wait_until(
            lambda: (team.tend(), runs.exists() and runs.read_text().count("pass") >= 3)[1],
            timeout=60,
            what="three passes",
        )
    finally:
        team.stop()
    # Ending well is what a periodic process does: not a death, no backoff, nothing logged.
    assert sweeper.deaths == 0
    assert log.getvalue() == ""


def test_a_failing_periodic_process_is_logged_and_backs_off():
    log = io.StringIO()
    sweeper = Child("sweeper", spawner(CRASHER), every=0.5)
    team = Supervisor([sweeper], log=log, log_format="text")
    team.start()
    try:
        wait_until(_tended(team, log, "exited with code 3", times=2), timeout=60, what="deaths")
    finally:
        team.stop()
    delays = [line.rsplit("in ", 1)[1] for line in log.getvalue().splitlines() if "next" in line]
    assert delays[:2] == ["1 s", "2 s"]


def test_a_killed_broker_is_started_again_and_stopping_leaves_nothing(tmp_path):
    log = io.StringIO()
    broker = LocalBroker.for_data_dir(tmp_path, log_path=tmp_path / "redis.log")
    sleeper = Child("sleeper", spawner(SLEEPER))
    team = Supervisor([sleeper], broker=broker, log=log, log_format="text")
    team.start()
    try:
        first = team.broker.process
        assert broker.answers()
        first.send_signal(signal.SIGKILL)
        wait_until(
            _tended(team, log, "broker started again"),
            timeout=60,
            what="the broker's restart",
            explain=log.getvalue,
        )
        assert team.broker.process.pid != first.pid and broker.answers()
        assert f"broker (pid {first.pid}) exited with signal 9" in log.getvalue()
        pids = [team.broker.process.pid, sleeper.process.pid]
    finally:
        team.stop()
    assert not [pid for pid in pids if psutil.pid_exists(pid)]
    assert not broker.answers()
