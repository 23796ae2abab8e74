"""Scrape-time metrics of the search index (see `metrics.exposition`)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Max
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from dossier.models import Event, SubscriberCursor
from search.indexer import CURSOR


def index_lag() -> Iterator[GaugeMetricFamily]:
    """How far the index writer is behind the outbox, in three primary-key lookups (unlike
    `indexer.lag`, which counts rows): events between its cursor and the newest (ids, so an
    id left unused by a rolled-back transaction counts too), and the age of the oldest."""
    position = (
        SubscriberCursor.objects.filter(name=CURSOR).values_list("last_event_id", flat=True).first()
        or 0
    )
    last = Event.objects.aggregate(last=Max("id"))["last"] or 0
    oldest = (
        Event.objects.filter(id__gt=position).order_by("id").values_list("at", flat=True).first()
    )
    age = max((timezone.now() - oldest).total_seconds(), 0.0) if oldest else 0.0
    yield GaugeMetricFamily(
        "edms_index_lag_events",
        "Outbox events the search index has not applied yet.",
        value=max(last - position, 0),
    )
    yield GaugeMetricFamily(
        "edms_index_lag_seconds",
        "Age of the oldest outbox event the search index has not applied yet (0: caught up).",
        value=age,
    )
