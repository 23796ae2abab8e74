"""Scale benchmark (`make bench`): do the registry's lists and feed stay flat as tables grow?

Creates its own PostgreSQL database on EDMS_BENCH_POSTGRES (by default .ci/run's server,
postgres://postgres:edms-ci@127.0.0.1:5432), migrates it, then bulk-loads realistic rows with
SQL (`INSERT … SELECT generate_series`) in steps — by default 10,000, 100,000 and 1,000,000
dossiers, each with three documents (one of them with a second version), a blob and a
processing row per version, and the outbox events and audit rows the actions write for them —
and after each step (ANALYZE first) times, with Django's test client in-process, the dossier
list API (first page, a middle page, `q=` and `ip_type=` filters), a dossier and its documents,
the event feed (from a recent cursor and from the start) and the web UI's dossier list, printing
for each the median and p95 over `--runs` requests and the number of SQL queries. It ends with
each growing table's bytes per row (`pg_total_relation_size`), the figures infra/SCALING.md uses.
It prints figures; it asserts nothing about speed. The database is dropped at the end.

    python -m tests.bench.scale [--steps 10000,100000,1000000] [--max N] [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

POSTGRES = os.environ.get("EDMS_BENCH_POSTGRES", "postgres://postgres:edms-ci@127.0.0.1:5432")
BENCH_DATABASE = "edms_bench_scale"
DEFAULT_STEPS = (10_000, 100_000, 1_000_000)
DOCUMENTS_PER_DOSSIER = 3
# The tables that grow with the archive (what infra/SCALING.md sizes).
GROWING_TABLES = (
    "dossier_dossier",
    "dossier_document",
    "dossier_version",
    "dossier_blob",
    "ingest_processing",
    "dossier_event",
    "dossier_auditevent",
)


# --- Bulk load: rows for dossiers (start, end], as the actions would have written them ----------

# n numbers the dossier, d = 3n + k (k = 0, 1, 2) its documents; document k = 0 has two versions.
# Ids are derived from the numbers (md5 → uuid) so that each step can add to the previous one.
LOAD_SQL = [
    """
    INSERT INTO dossier_dossier (id, key, raw_key, ip_type, title, applicants, representatives,
        filing_date, published_at, registration_date, status, language, priority_claims, secret,
        paper_location, revision, created_at, updated_at)
    SELECT md5('dossier' || n)::uuid,
        'BG/' || (ARRAY['P','T','D','U'])[n % 4 + 1] || '/' || (2000 + n % 25) || '/' || n,
        'BG/' || (ARRAY['P','T','D','U'])[n % 4 + 1] || '/' || (2000 + n % 25) || '/'
            || lpad(n::text, 7, '0'),
        (ARRAY['patent','trademark','design','utility_model'])[n % 4 + 1],
        'Method and apparatus no. ' || n || ' for ' ||
            (ARRAY['cooling','sealing','sorting','printing','brewing','welding'])[n % 6 + 1]
            || ' ' || (ARRAY['bottles','engines','yoghurt','tiles','rails','looms'])[n % 5 + 1],
        jsonb_build_array(jsonb_build_object('name', 'Applicant ' || (n % 20000) || ' Ltd',
            'country', 'BG')),
        '[]'::jsonb,
        DATE '2000-01-01' + (n % 9000), CASE WHEN n % 3 = 0 THEN NULL
            ELSE DATE '2001-06-01' + (n % 9000) END,
        NULL, (ARRAY['filed','examined','granted','published','withdrawn'])[n % 5 + 1],
        'bg', '[]'::jsonb, n % 500 = 0, '', 1,
        now() - (%(end)s - n) * interval '1 minute', now() - (%(end)s - n) * interval '1 minute'
    FROM generate_series(%(start)s + 1, %(end)s) AS n
    """,
    """
    INSERT INTO dossier_blob (sha256, size, media_type, created_at, verified_at)
    SELECT encode(sha256(('blob' || v)::bytea), 'hex'), 150000 + v % 900000, 'application/pdf',
        now(), now()
    FROM generate_series(%(start)s * 4 + 4, %(end)s * 4 + 3) AS v
    """,
    """
    INSERT INTO dossier_document (id, direction, official_date, channel, language, title,
        registry_id, visibility, state, cancel_reason, page_count, latest_version, revision,
        created_at, updated_at, type_code, dossier_id, paper_location, paper_note,
        redaction_required)
    SELECT md5('document' || d)::uuid, 'in', DATE '2000-01-01' + (d / 3 % 9000), 'efiling', 'bg',
        'Document ' || d, 'R' || d, 'public_after_publication',
        CASE WHEN d % 1000 = 1 THEN 'qc_pending' ELSE 'active' END, '', 4 + d % 30,
        CASE WHEN d % 3 = 0 THEN 2 ELSE 1 END, 1, now(), now(),
        (SELECT code FROM dossier_documenttype WHERE direction = 'in' ORDER BY code LIMIT 1),
        md5('dossier' || (d / 3))::uuid, '', '', false
    FROM generate_series(%(start)s * 3 + 3, %(end)s * 3 + 2) AS d
    """,
    # Version v = 4n + j: j = 0..2 the documents' first versions, j = 3 the second of k = 0.
    """
    INSERT INTO dossier_version (number, filename, media_type, created_at, blob_id, document_id,
        detected_media_type, page_count, languages, metadata, quality, quality_reason,
        expunge_reason, expunge_reference)
    SELECT CASE WHEN v % 4 = 3 THEN 2 ELSE 1 END, 'document-' || v || '.pdf', 'application/pdf',
        now(), encode(sha256(('blob' || v)::bytea), 'hex'),
        md5('document' || (v / 4 * 3 + CASE WHEN v % 4 = 3 THEN 0 ELSE v % 4 END))::uuid,
        'application/pdf', 4 + v % 30, '["bg"]'::jsonb,
        '{"title": "", "author": "", "pdfa": false, "encrypted": false}'::jsonb, 'good', '', '',
        ''
    FROM generate_series(%(start)s * 4 + 4, %(end)s * 4 + 3) AS v
    """,
    """
    INSERT INTO ingest_processing (state, reason, steps, attempts, queued_at, started_at,
        finished_at, media_type, page_count, languages, metadata, text_chars, version_id, stage,
        lane, runner_host, task_id, renditions_state, quality, quality_reason, reason_code)
    SELECT 'done', '', jsonb_build_array(
            jsonb_build_object('name', 'identify', 'state', 'done', 'ms', 12, 'detail', ''),
            jsonb_build_object('name', 'extract', 'state', 'done', 'ms', 840, 'detail', ''),
            jsonb_build_object('name', 'ocr', 'state', 'done', 'ms', 9400,
                'detail', 'tesseract bul+eng'),
            jsonb_build_object('name', 'index', 'state', 'done', 'ms', 35, 'detail', '')),
        1, now(), now(), now(), 'application/pdf', 4 + id % 30, '["bg"]'::jsonb, '{}'::jsonb,
        9000 + id % 40000, id, 'render', 'interactive', 'worker-1', md5(id::text), 'done', 'good',
        '', ''
    FROM dossier_version WHERE id > (SELECT coalesce(max(version_id), 0) FROM ingest_processing)
    """,
]


def _event_and_audit_sql() -> list[str]:
    """Events and audit rows per dossier n in (start, end] (a separate generate_series so the
    dossier number is at hand rather than parsed back out of the key)."""
    key = "'BG/' || (ARRAY['P','T','D','U'])[n % 4 + 1] || '/' || (2000 + n % 25) || '/' || n"
    events = f"""
    INSERT INTO dossier_event (kind, at, dossier_key, document_id, version, payload, lane)
    SELECT e.kind, now() - (%(end)s - n) * interval '1 minute', {key},
        CASE WHEN e.k IS NULL THEN NULL ELSE md5('document' || (n * 3 + e.k))::uuid END,
        e.version, e.payload, 'interactive'
    FROM generate_series(%(start)s + 1, %(end)s) AS n
    CROSS JOIN (VALUES
        (1, 'dossier.created', NULL::int, NULL::int, '{{"revision": 1}}'::jsonb),
        (2, 'document.registered', 0, 1, '{{"type": "REQ", "direction": "in"}}'::jsonb),
        (3, 'document.registered', 1, 1, '{{"type": "REQ", "direction": "in"}}'::jsonb),
        (4, 'document.registered', 2, 1, '{{"type": "REQ", "direction": "in"}}'::jsonb),
        (5, 'document.processed', 0, 1, '{{"state": "done", "pages": 12}}'::jsonb),
        (6, 'document.processed', 1, 1, '{{"state": "done", "pages": 7}}'::jsonb),
        (7, 'document.processed', 2, 1, '{{"state": "done", "pages": 3}}'::jsonb),
        (8, 'document.version_added', 0, 2, '{{"filename": "reply.pdf"}}'::jsonb)
    ) AS e(ord, kind, k, version, payload)
    ORDER BY n, e.ord
    """
    audit = f"""
    INSERT INTO dossier_auditevent (at, actor_label, action, object_type, object_id, dossier_key,
        request_id, client_address, detail)
    SELECT now() - (%(end)s - n) * interval '1 minute', 'registry-system', a.action, a.object_type,
        CASE WHEN a.k IS NULL THEN md5('dossier' || n)
            ELSE md5('document' || (n * 3 + a.k)) END,
        {key}, md5('request' || n || a.ord), '10.0.0.7'::inet, a.detail
    FROM generate_series(%(start)s + 1, %(end)s) AS n
    CROSS JOIN (VALUES
        (1, 'dossier.create', 'dossier', NULL::int, '{{"fields": ["title", "applicants"]}}'::jsonb),
        (2, 'document.register', 'document', 0, '{{"type": "REQ", "version": 1}}'::jsonb),
        (3, 'document.register', 'document', 1, '{{"type": "REQ", "version": 1}}'::jsonb),
        (4, 'document.register', 'document', 2, '{{"type": "REQ", "version": 1}}'::jsonb),
        (5, 'version.add', 'document', 0, '{{"version": 2, "filename": "reply.pdf"}}'::jsonb),
        (6, 'document.download', 'document', 0, '{{"version": 2}}'::jsonb)
    ) AS a(ord, action, object_type, k, detail)
    ORDER BY n, a.ord
    """
    return [events, audit]


def bulk_load(connection: psycopg.Connection, start: int, end: int) -> float:
    """Add dossiers (start, end] with their documents, versions, events and audit; ANALYZE."""
    began = time.perf_counter()
    for statement in [*LOAD_SQL, *_event_and_audit_sql()]:
        # Plain integers put in the text: no parameters, so `%` stays SQL's modulo.
        sql = statement.replace("%(start)s", str(int(start))).replace("%(end)s", str(int(end)))
        connection.execute(sql)
    connection.commit()
    connection.execute("ANALYZE")
    return time.perf_counter() - began


def dossier_key(n: int) -> str:
    return f"BG/{'PTDU'[n % 4]}/{2000 + n % 25}/{n}"  # stored unpadded (dossier.numbering)


# --- Measuring ------------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    median_ms: float
    p95_ms: float
    queries: int
    status: int


def measure(name: str, get: Callable[[], object], runs: int) -> Figure:
    from django.db import connection

    # Counted by a wrapper, not CaptureQueriesContext: each request's start resets the log.
    queries: list[str] = []
    with connection.execute_wrapper(
        lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)
    ):
        response = get()  # warm, and count its queries
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        get()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return Figure(name, statistics.median(times), p95, len(queries), response.status_code)


def measure_step(dossiers: int, runs: int) -> list[Figure]:
    from django.test import Client

    from dossier.models import Event
    from dossier.roles import Role
    from tests.factories import UserFactory

    examiner, registry = Client(), Client()
    examiner.force_login(_user(UserFactory, "bench-scale-examiner", Role.EXAMINER))
    registry.force_login(_user(UserFactory, "bench-scale-registry", Role.REGISTRY_SYSTEM))
    middle_page = dossiers // 50 // 2  # PAGE_SIZE is 50
    ui_middle = max(1, dossiers // 2 // 50)
    key = dossier_key(dossiers // 2 + 1)
    recent = Event.objects.order_by("-id").values_list("id", flat=True)[100]
    calls = [
        ("API dossier list, page 1", examiner, "/api/v1/dossiers", {}),
        (
            f"API dossier list, page {middle_page}",
            examiner,
            "/api/v1/dossiers",
            {"page": middle_page},
        ),
        (
            "API dossier list, q=Applicant 1234",
            examiner,
            "/api/v1/dossiers",
            {"q": "Applicant 1234 "},
        ),
        ("API dossier list, ip_type=design", examiner, "/api/v1/dossiers", {"ip_type": "design"}),
        ("API dossier detail", examiner, f"/api/v1/dossiers/{key}", {}),
        ("API dossier documents", examiner, f"/api/v1/dossiers/{key}/documents", {}),
        ("API events after a recent cursor", registry, "/api/v1/events", {"after": recent}),
        ("API events from the start", registry, "/api/v1/events", {}),
        ("UI dossier list, page 1", examiner, "/", {}),
        (f"UI dossier list, page {ui_middle}", examiner, "/", {"page": ui_middle}),
    ]
    return [
        measure(name, lambda c=client, u=url, p=params: c.get(u, p), runs)
        for name, client, url, params in calls
    ]


def _user(factory, username: str, role):
    from django.contrib.auth import get_user_model

    existing = get_user_model().objects.filter(username=username).first()
    return existing or factory(username=username, role=role)


def table_sizes(connection: psycopg.Connection) -> list[tuple[str, int, int]]:
    """(table, rows, total bytes with indexes and TOAST) for the growing tables."""
    sizes = []
    for table in GROWING_TABLES:
        rows = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        total = connection.execute("SELECT pg_total_relation_size(%s)", [table]).fetchone()[0]
        sizes.append((table, rows, total))
    return sizes


def print_step(dossiers: int, load_s: float, figures: list[Figure], baseline: dict) -> None:
    print(
        f"\n{dossiers:,} dossiers ({dossiers * DOCUMENTS_PER_DOSSIER:,} documents), "
        f"loaded in {load_s:.0f} s"
    )
    print(f"  {'call':<42} {'median':>8} {'p95':>8} {'queries':>7}  vs. first step")
    for figure in figures:
        first = baseline.setdefault(figure.name.split(", page ")[0], figure)
        growth = figure.p95_ms / first.p95_ms if first.p95_ms else 1.0
        note = f"x{growth:.1f}" + ("  GROWS" if growth > 3 and figure is not first else "")
        status = "" if figure.status == 200 else f"  (HTTP {figure.status})"
        print(
            f"  {figure.name:<42} {figure.median_ms:>6.1f}ms {figure.p95_ms:>6.1f}ms "
            f"{figure.queries:>7}  {note}{status}"
        )


def print_sizes(sizes: list[tuple[str, int, int]]) -> None:
    print(f"\n  {'table':<22} {'rows':>12} {'total':>10} {'bytes/row':>10}")
    for table, rows, total in sizes:
        per_row = total / rows if rows else 0
        print(f"  {table:<22} {rows:>12,} {total / 2**20:>8.0f}MB {per_row:>10.0f}")


def setup_django(database_url: str, data_dir: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("EDMS_", "DATABASE_URL", "CELERY_", "ELASTICSEARCH")):
            del os.environ[name]
    os.environ.update(
        DJANGO_SETTINGS_MODULE="edms.settings",
        EDMS_DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        CELERY_BROKER_URL="memory://",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.scale", description=__doc__)
    parser.add_argument(
        "--steps",
        default=",".join(str(s) for s in DEFAULT_STEPS),
        help="dossier counts to measure at, comma-separated",
    )
    parser.add_argument("--max", type=int, default=None, help="leave out steps above this")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    steps = sorted(int(s) for s in args.steps.split(",") if s.strip())
    if args.max is not None:
        steps = [s for s in steps if s <= args.max]
    server = POSTGRES.rstrip("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
        admin.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    try:
        with tempfile.TemporaryDirectory(prefix="edms-bench-scale-") as data_dir:
            setup_django(f"{server}/{BENCH_DATABASE}", Path(data_dir))
            run(f"{server}/{BENCH_DATABASE}", steps, args.runs)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
    return 0


def run(database_url: str, steps: list[int], runs: int) -> None:
    print(f"scale benchmark: PostgreSQL, {runs} requests per call, Django test client in-process")
    baseline: dict = {}
    loaded = 0
    with psycopg.connect(database_url) as connection:
        for step in steps:
            load_s = bulk_load(connection, loaded, step)
            loaded = step
            print_step(step, load_s, measure_step(step, runs), baseline)
            print_sizes(table_sizes(connection))
    print(
        "\nGROWS: p95 more than 3x the first step's. Known causes (infra/SCALING.md): the page"
        " count (COUNT(*)) of page-number pagination, deep OFFSETs of middle pages, and q='s"
        " ILIKE '%...%' scan of the dossier table."
    )


if __name__ == "__main__":
    sys.exit(main())
