"""Event subscribers for the dispatch tests (named in EDMS_EVENT_SUBSCRIBERS by those tests):
one that records every call, one that fails while `failing` is set."""

from __future__ import annotations

from dossier.models import Event

calls: list[list[int]] = []  # the ids of each batch handed to `record`
failing = {"on": True}


def record(events: list[Event]) -> None:
    calls.append([event.id for event in events])


def fail(events: list[Event]) -> None:
    if failing["on"]:
        raise RuntimeError("the subscriber's database is down")
    calls.append([event.id for event in events])
