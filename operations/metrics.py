"""Scrape-time metrics of the broker's queues (see `metrics.exposition`)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily

from operations.broker import queue_states


def queues() -> Iterator[GaugeMetricFamily]:
    """`edms_queue_depth{queue}` and `edms_queue_oldest_task_age_seconds{queue}` (0 when the
    queue is empty), in one broker round trip (`BROKER_TIMEOUT` at most to connect);
    `edms_broker_up` 0 and no queue when the broker does not answer."""
    states = queue_states()
    yield GaugeMetricFamily(
        "edms_broker_up", "Whether the broker answered this scrape.", value=int(states is not None)
    )
    depth = GaugeMetricFamily("edms_queue_depth", "Tasks waiting in each queue.", labels=["queue"])
    age = GaugeMetricFamily(
        "edms_queue_oldest_task_age_seconds",
        "How long the oldest task waiting in each queue has waited (0: none waits; Redis only).",
        labels=["queue"],
    )
    for state in states or []:
        if state.waiting is not None:
            depth.add_metric([state.name], state.waiting)
        if state.waiting is not None and (state.oldest_age_s is not None or state.waiting == 0):
            age.add_metric([state.name], state.oldest_age_s or 0.0)
    yield depth
    yield age
