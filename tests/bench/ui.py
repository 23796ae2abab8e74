"""Web UI benchmark (`make bench`): server time of a dossier page with many documents (the
first page of its file wrapper: `frontend.views.dossiers.DOCUMENTS_PER_PAGE` rows; goal ≤ 300 ms).

Builds a fresh embedded installation (SQLite, filesystem blobs) in a temporary directory, files
a dossier of `--documents` documents (bulk-inserted rows, see `tests.ui_support.large_dossier`),
signs an examiner in and requests the dossier page through Django's full request cycle
(middleware, session, access, template) `--runs` times, printing the distribution of server
time and the number of SQL queries. It prints figures; it asserts nothing.

    python -m tests.bench.ui [--documents 500] [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from edms import localbroker


def setup_django(data_dir: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("EDMS_", "DATABASE_URL", "CELERY_", "ELASTICSEARCH")):
            del os.environ[name]
    os.environ.update(DJANGO_SETTINGS_MODULE="edms.settings", EDMS_DATA_DIR=str(data_dir))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    # Pages name static files by their hashed names: the manifest must exist, as `edms run` makes.
    call_command("collectstatic", interactive=False, verbosity=0)


def measure(documents: int, runs: int) -> dict:
    from django.db import connection
    from django.test import Client

    from dossier.roles import Role
    from tests.factories import UserFactory
    from tests.ui_support import large_dossier

    large_dossier("BG/P/2020/500", documents)
    client = Client()
    client.force_login(UserFactory(username="bench-examiner", role=Role.EXAMINER))
    url = "/dossiers/BG/P/2020/500"
    first = client.get(url)  # warm: templates compiled, caches filled
    assert first.status_code == 200, first.status_code
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
    queries = []
    with connection.execute_wrapper(
        lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)
    ):
        client.get(url)
    gzipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip")  # what a browser receives
    return {
        "times": times,
        "queries": len(queries),
        "bytes": len(response.content),
        "gzip_bytes": len(gzipped.content),
        "rows": response.content.count(b"<tr data-document="),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.ui", description=__doc__)
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    with (
        tempfile.TemporaryDirectory(prefix="edms-bench-ui-") as data_dir,
        localbroker.running(Path(data_dir)),
    ):
        setup_django(Path(data_dir))
        result = measure(args.documents, args.runs)
    times_ms = sorted(t * 1000 for t in result["times"])
    p95 = times_ms[min(len(times_ms) - 1, int(len(times_ms) * 0.95))]
    print(f"dossier page, {args.documents} documents, examiner, embedded SQLite, {args.runs} runs")
    print(f"  rows rendered    {result['rows']}")
    print(f"  HTML size        {result['bytes'] / 1024:.0f} KiB")
    print(f"  gzipped          {result['gzip_bytes'] / 1024:.0f} KiB (sent to a browser)")
    print(f"  SQL queries      {result['queries']}")
    print(f"  server time      median {statistics.median(times_ms):.1f} ms, p95 {p95:.1f} ms,")
    print(f"                   min {times_ms[0]:.1f} ms, max {times_ms[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
