"""Readiness: whether this edms can do its work now (`/readyz`, `edms check --deploy`).

Liveness (`/healthz`) says only that the process answers; a load balancer that restarted nodes on
a database outage would restart every node at once for nothing. Readiness says whether the
services every request or task needs answer: the database, the broker, the blob store, the search
engine and, when one is named, the Tika server. A node that is not ready is taken out of the
load balancer's rotation until it is again.

One function per dependency, each through the dependency's own client (Django's database
backend, kombu, the blob storage's backend, the search backend, the `tika` client) so that the
check sees what edms itself would see. Each takes the seconds it may use and raises when its
dependency does not answer. They run at once, each in a thread, and the answer comes within
EDMS_READINESS_TIMEOUT whatever hangs: a check still running then fails with "no answer within
N s" (its client's own timeout, the same, ends its thread soon after).

What a failure says goes to anyone who asks (the probe needs no sign-in): the exception's type
and message, with passwords in URLs blanked and cut short; never a stack trace.
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import DEFAULT_DB_ALIAS, connections

from dossier.blobstore import blob_storage
from edms.celery import app as celery_app
from ingest import extractors
from search.backends import get_backend

Check = Callable[[float], None]

# A URL's user:password@ (a broker's, a search cluster's) never leaves the process.
_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    latency_ms: float
    error: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def check_database(timeout: float) -> None:
    """A new connection (not the request's, which may be healthy from before) answers SELECT 1."""
    connection = connections[DEFAULT_DB_ALIAS]
    params = connection.get_connection_params()
    if connection.vendor == "postgresql":
        params["connect_timeout"] = max(1, math.ceil(timeout))  # libpq counts whole seconds
    raw = connection.get_new_connection(params)
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT 1")
        cursor.fetchone()
        cursor.close()
    finally:
        raw.close()


def check_broker(timeout: float, *, url: str | None = None) -> None:
    """The Celery broker (the embedded default's private Redis, or CELERY_BROKER_URL's) accepts
    a connection: one attempt, no retries. `url` names another broker (tests)."""
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    with celery_app.connection_for_write(
        url, connect_timeout=timeout, transport_options=options
    ) as connection:
        connection.ensure_connection(max_retries=0)
        if connection.transport.driver_type == "redis":
            with connection.default_channel.conn_or_acquire() as client:
                client.ping()


def check_blob_store(timeout: float) -> None:
    """Filesystem: a file can be written, read back and removed in the blob directory.
    S3: the bucket answers a HEAD request (a probe writes nothing into the bucket)."""
    storage = blob_storage()
    if isinstance(storage, FileSystemStorage):
        _check_directory(Path(storage.location))
    elif hasattr(storage, "bucket_name"):
        _check_bucket(storage, timeout)
    else:  # another storage backend: one round trip through its API
        storage.exists(".readyz")


def _check_directory(directory: Path) -> None:
    # Made when missing, as storing the first blob would: a fresh installation is ready.
    directory.mkdir(parents=True, exist_ok=True)
    # Removed on close; blobs are named by their SHA-256, so the probe never meets one.
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".readyz-") as probe:
        probe.write(b"ready")
        probe.flush()
        probe.seek(0)
        if probe.read() != b"ready":
            raise OSError(f"the blob directory {directory} gave back what was not written")


def _check_bucket(storage, timeout: float) -> None:
    from botocore.config import Config  # only with S3 (boto3 is not loaded otherwise)

    # A client of its own, from the storage's session and settings, for its short timeouts
    # and single attempt; the storage's client keeps botocore's (long uploads need them).
    config = storage.client_config.merge(
        Config(connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1})
    )
    client = storage._create_session().client(
        "s3",
        region_name=storage.region_name,
        use_ssl=storage.use_ssl,
        endpoint_url=storage.endpoint_url,
        config=config,
        verify=storage.verify,
    )
    client.head_bucket(Bucket=storage.bucket_name)


def check_search(timeout: float) -> None:
    """The search engine answers: the embedded index opens, a cluster's health is not red."""
    get_backend().check_ready(timeout)


def check_tika(timeout: float) -> None:
    """The Tika server named by TIKA_SERVER_URL answers."""
    extractors.load(settings.EDMS_EXTRACTOR).check_ready(timeout)


def configured_checks() -> dict[str, Check]:
    """The checks of this configuration, by the name the answer gives them."""
    checks: dict[str, Check] = {
        "database": check_database,
        "broker": check_broker,
        "blob_store": check_blob_store,
        "search": check_search,
    }
    if settings.TIKA_SERVER_URL:
        checks["tika"] = check_tika
    return checks


def run_checks(
    checks: dict[str, Check] | None = None, *, timeout: float | None = None
) -> list[CheckResult]:
    """Run `checks` (default: this configuration's) at once; every result within `timeout`
    seconds (default EDMS_READINESS_TIMEOUT), in the order given."""
    checks = configured_checks() if checks is None else checks
    timeout = settings.EDMS_READINESS_TIMEOUT if timeout is None else timeout
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=len(checks) or 1, thread_name_prefix="readiness")
    futures = {name: pool.submit(_timed, check, timeout) for name, check in checks.items()}
    wait_for(futures.values(), timeout=timeout)
    # Threads still running end with their clients' own timeouts; nobody waits for them.
    pool.shutdown(wait=False, cancel_futures=True)
    results = []
    for name, future in futures.items():
        if future.done():
            ok, latency_ms, error = future.result()
        else:
            ok, latency_ms = False, (time.monotonic() - started) * 1000
            error = f"no answer within {timeout:g} s"
        results.append(CheckResult(name, ok, round(latency_ms, 1), error))
    return results


def _timed(check: Check, timeout: float) -> tuple[bool, float, str | None]:
    started = time.monotonic()
    try:
        check(timeout)
    except Exception as exc:  # any failure of any client: reported, never raised
        return False, (time.monotonic() - started) * 1000, describe(exc)
    finally:
        # A database connection this thread opened through Django's handler is its own.
        connections.close_all()
    return True, (time.monotonic() - started) * 1000, None


def describe(exc: BaseException) -> str:
    """What a failure may say to anyone: type and message, no credentials, no trace."""
    message = " ".join(str(exc).split()) or "no detail"
    message = _CREDENTIALS.sub(r"\g<scheme>***@", message)
    text = f"{type(exc).__name__}: {message}"
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"
