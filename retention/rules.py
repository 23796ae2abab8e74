"""Which retention rule applies to a document, and when its period ends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dossier.case_events import CaseEventKind
from retention.models import RetentionRule


def rule_for(rules: Iterable[RetentionRule], ip_type: str, doc_type: str) -> RetentionRule | None:
    """The rule deciding for a document of `doc_type` in a dossier of `ip_type`: the most
    specific that matches (both named, then the document type, then the IP type, then neither);
    among equally specific ones a permanent rule, then the longest period."""
    matching = [
        r
        for r in rules
        if r.ip_type in ("", ip_type) and (r.doc_type_id is None or r.doc_type_id == doc_type)
    ]
    if not matching:
        return None
    return max(
        matching,
        key=lambda r: (
            (r.doc_type_id is not None) * 2 + bool(r.ip_type),
            r.permanent,
            r.years or 0,
            -r.pk,
        ),
    )


def is_permanent(ip_type: str, doc_type: str) -> bool:
    """A document of `doc_type` in a dossier of `ip_type` is kept for good by its rule."""
    rule = rule_for(RetentionRule.objects.all(), ip_type, doc_type)
    return rule is not None and rule.permanent


@dataclass(frozen=True)
class Trigger:
    kind: str
    date: dt.date


def trigger_of(rule: RetentionRule, events: Sequence[tuple[str, dt.date]]) -> Trigger | None:
    """The event the rule's period counts from: the latest of the rule's trigger kinds in the
    dossier's `events` (kind, date; in date order), unless a restoration of rights came after
    it (the case is alive again; a new lapse starts a new period). None: the clock has not
    started."""
    wanted = set(rule.triggers)
    latest = None
    for kind, date in events:
        if kind in wanted:
            latest = Trigger(kind, date)
        elif kind == CaseEventKind.RESTORATION and latest is not None and date >= latest.date:
            latest = None
    return latest


def add_years(day: dt.date, years: int) -> dt.date:
    """`day` moved `years` calendar years on; 29 February becomes 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def due_on(rule: RetentionRule, trigger: Trigger) -> dt.date | None:
    """The first day the document may be disposed of; None for a permanent rule."""
    if rule.permanent or rule.years is None:
        return None
    return add_years(trigger.date, rule.years)
