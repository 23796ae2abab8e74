"""Reading a `/metrics` answer in tests."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "scrape-me-please"


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of an exposition text: (sample name, its labels) → value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict, name: str, **labels) -> float:
    """One sample's value; 0 when the series is not there (yet)."""
    return found.get((name, frozenset(labels.items())), 0.0)


def names(found: dict) -> set[str]:
    return {name for name, _ in found}
