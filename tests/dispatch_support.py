"""Event subscribers for the dispatch tests (named in EDMS_EVENT_SUBSCRIBERS by those tests):
one that records every call, one that fails while `failing` is set, one that stops the
process."""

from __future__ import annotations

import os
import signal

from dossier.models import Event

calls: list[list[int]] = []  # the ids of each batch handed to `record` (or `fail`, when it works)
failing = {"on": True, "attempts": 0}


def record(events: list[Event]) -> None:
    calls.append([event.id for event in events])


def fail(events: list[Event]) -> None:
    failing["attempts"] += 1
    if failing["on"]:
        raise RuntimeError("the subscriber's database is down")
    calls.append([event.id for event in events])


def stop_the_process(events: list[Event]) -> None:
    """Stop this process with a real SIGINT (as Ctrl-C or a supervisor does) while it hands a
    batch over: Python raises KeyboardInterrupt here, and nothing after runs."""
    os.kill(os.getpid(), signal.SIGINT)
