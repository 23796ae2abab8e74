"""`/metrics`: every process's counters and histograms added up, and what the database and the
broker say now.

Scrape-time collectors (EDMS_METRICS_COLLECTORS: name → dotted path of a function yielding
metric families) each run once per scrape; they must be cheap and bounded (an indexed query, one
broker round trip with a short timeout; on PostgreSQL a statement is cut off after
STATEMENT_TIMEOUT_MS). Each is timed (`edms_metrics_collector_duration_seconds`) and one that
fails is reported down (`edms_metrics_collector_up` 0) rather than failing the scrape.

Protected by a bearer token (EDMS_METRICS_TOKEN). Without one the endpoint does not exist (404):
metrics name queues, routes and stations, which is nobody's business by default, and a token
works the same behind any proxy, where "only from loopback" would mean only from the proxy.
"""

from __future__ import annotations

import hmac
import logging
import time
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)


# A database query of a collector that takes longer is cancelled (PostgreSQL): a scrape must
# never pile up behind a slow database, and its queries are meant to take milliseconds.
STATEMENT_TIMEOUT_MS = 2000


@contextmanager
def bounded():
    """One transaction per collector, its statements cut off after STATEMENT_TIMEOUT_MS on
    PostgreSQL (SET LOCAL: the setting ends with the transaction)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
        yield


class ScrapeTimeCollector:
    """The apps' collectors, run and timed at each scrape."""

    def __init__(self, collectors: dict[str, str]):
        self.collectors = collectors

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        took = GaugeMetricFamily(
            "edms_metrics_collector_duration_seconds",
            "How long each scrape-time collector took in this scrape.",
            labels=["collector"],
        )
        up = GaugeMetricFamily(
            "edms_metrics_collector_up",
            "Whether each scrape-time collector answered in this scrape (1) or failed (0).",
            labels=["collector"],
        )
        for name, path in self.collectors.items():
            started = time.perf_counter()
            try:
                with bounded():
                    families = list(import_string(path)())
            except Exception:  # a broken collector costs its own metrics, not the scrape
                log.exception("metrics collector %s failed", name)
                families, ok = [], 0
            else:
                ok = 1
            took.add_metric([name], time.perf_counter() - started)
            up.add_metric([name], ok)
            yield from families
        yield took
        yield up


def scrape() -> tuple[bytes, str]:
    """The exposition text of all processes' instruments and the scrape-time collectors."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    import metrics.instruments  # noqa: F401  (makes the directory on a fresh installation)

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(ScrapeTimeCollector(settings.EDMS_METRICS_COLLECTORS))
    return generate_latest(registry), CONTENT_TYPE_LATEST


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.EDMS_METRICS_TOKEN
    if not token:
        raise Http404("metrics are off: EDMS_METRICS_TOKEN is not set")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse(
            "a bearer token is required\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = scrape()
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
