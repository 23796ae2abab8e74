"""Scrape-time metrics of processing (see `metrics.exposition`)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from ingest.models import Processing, State

# Counted at each scrape: the versions not done. Done ones are the whole archive (counting
# them is a scan of the table); the rate they finish at is in the step histogram.
COUNTED_STATES = (State.PENDING, State.RUNNING, State.FAILED)


def versions_by_state() -> Iterator[GaugeMetricFamily]:
    """`edms_versions{state}`: versions whose processing is pending, running or failed (one
    query on the (state, started_at) index)."""
    rows = (
        Processing.objects.filter(state__in=COUNTED_STATES)
        .values_list("state")
        .annotate(count=Count("id"))
        .order_by()
    )
    counts = dict(rows)
    family = GaugeMetricFamily(
        "edms_versions",
        "Versions by processing state (pending, running, failed; done ones are not counted).",
        labels=["state"],
    )
    for state in COUNTED_STATES:
        family.add_metric([state.value], counts.get(state.value, 0))
    yield family
