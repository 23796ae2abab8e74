"""The counters and histograms of edms, shared by all its processes.

Several processes bump them (gunicorn's workers, each Celery worker, `edms fixity`), so they use
the client library's multiprocess mode: each process writes its values to memory-mapped files
in PROMETHEUS_MULTIPROC_DIR (settings put it in the environment before anything imports the
library, which picks its mode when imported), and a scrape adds the files up. Counters of a
process that has exited stay in its files: the sums never go backwards while `edms run` lives;
`edms run` empties the directory when it starts.

Only counters and histograms are kept here; gauges (queue depths, versions waiting) are
computed when scraped (`metrics.exposition`), so no process has to mark another dead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.conf import settings

# Reading a setting loads the settings, which put PROMETHEUS_MULTIPROC_DIR in the environment;
# the directory must exist before the first value is written.
settings.EDMS_METRICS_DIR.mkdir(parents=True, exist_ok=True)

from prometheus_client import Counter, Histogram  # noqa: E402  (after the directory exists)

HTTP_REQUESTS = Counter(
    "edms_http_requests",
    "HTTP requests answered, by route (the URL pattern, not the path), method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "edms_http_request_duration_seconds",
    "Time until the answer is ready (a streamed body's transfer not included), by route and "
    "status.",
    ["route", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UPLOADS = Counter("edms_uploads", "Files received and stored (each becomes a version).")
UPLOAD_BYTES = Counter("edms_upload_bytes", "Bytes of the files received and stored.")
DOWNLOADS = Counter(
    "edms_downloads",
    "Content downloads started: whole, a byte range, or a ZIP of several (exports, publication "
    "batches, the dossier page's download).",
    ["kind"],
)
DOWNLOAD_BYTES = Counter("edms_download_bytes", "Content bytes sent to clients (ZIPs included).")
STEP_DURATION = Histogram(
    "edms_processing_step_duration_seconds",
    "Duration of each processing step (fetch, identify, extract, ocr, ...), by its outcome.",
    ["step", "state"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)
OCR_PAGES = Counter("edms_ocr_pages", "Pages read by OCR (every pass, retries included).")
WEBHOOK_DELIVERIES = Counter(
    "edms_webhook_deliveries",
    "Webhook delivery attempts by the state they left the delivery in "
    "(delivered, pending: a retry is due, failed, gave_up).",
    ["state"],
)
SCAN_PAGES = Counter("edms_scan_pages", "Scanned pages read from batches, by station.", ["station"])
FIXITY_CHECKS = Counter(
    "edms_fixity_checks",
    "Blobs re-hashed by fixity checks, by result (ok, missing, mismatch).",
    ["result"],
)


# Every known label value at 0 from the start: a series that appears only at its first event
# makes `rate()` and alerts miss that event, and dashboards show "no data" for "none".
for _kind in ("whole", "range", "zip"):
    DOWNLOADS.labels(kind=_kind)
for _result in ("ok", "missing", "mismatch"):
    FIXITY_CHECKS.labels(result=_result)
for _state in ("delivered", "pending", "failed", "gave_up"):
    WEBHOOK_DELIVERIES.labels(state=_state)


def counted_zip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """A ZIP download started: counted as one, its bytes as they are sent."""
    DOWNLOADS.labels(kind="zip").inc()
    return counted_download(chunks)


def counted_download(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Pass `chunks` on, counting the bytes as they are sent (a download broken off counts
    what was sent)."""
    for chunk in chunks:
        DOWNLOAD_BYTES.inc(len(chunk))
        yield chunk
