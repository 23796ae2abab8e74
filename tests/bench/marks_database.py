"""The similar-marks latency as a request pays it (`python -m tests.bench.marks`): `--scale`
mark images stored in PostgreSQL, one per trademark or design dossier, and each query timed
through `similarity.marks.similar_marks` — the caller's permissions, the filters, the search and
the matches' rows — after the query's features, for an examiner and for the public (who may not
see unpublished, secret or internal files). The first query after the matrix cache is emptied
(the matrix read from the database, as a fresh web process does) is timed on its own.

Its own database (`edms_bench_marks` on EDMS_BENCH_POSTGRES, by default .ci/run's server) is
created, migrated, loaded with SQL and COPY, and dropped at the end.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psycopg

POSTGRES = os.environ.get("EDMS_BENCH_POSTGRES", "postgres://postgres:edms-ci@127.0.0.1:5432")
BENCH_DATABASE = "edms_bench_marks"

# Dossier n (1..N): a design when n % 5 == 0, else a trademark; unpublished when n % 3 == 0;
# secret when n % 500 == 0. Its one document (id from n) is the mark or design image, internal
# when n % 50 == 0 and held for quality control when n % 1000 == 1: the public sees about 64 %.
# Three dossiers in four have a Vienna code, of category n % 29 + 1: `26` keeps 2.6 % of marks.
LOAD_SQL = [
    """
    INSERT INTO dossier_dossier (id, key, raw_key, ip_type, title, applicants, representatives,
        filing_date, published_at, registration_date, status, language, priority_claims, secret,
        paper_location, revision, created_at, updated_at)
    SELECT md5('dossier' || n)::uuid,
        'BG/' || CASE WHEN n %% 5 = 0 THEN 'D' ELSE 'T' END || '/2024/' || n,
        'BG/' || CASE WHEN n %% 5 = 0 THEN 'D' ELSE 'T' END || '/2024/' || lpad(n::text, 6, '0'),
        CASE WHEN n %% 5 = 0 THEN 'design' ELSE 'trademark' END, 'Mark no. ' || n, '[]'::jsonb,
        '[]'::jsonb, DATE '2020-01-01' + (n %% 1500),
        CASE WHEN n %% 3 = 0 THEN NULL ELSE DATE '2020-06-01' + (n %% 1500) END, NULL,
        (ARRAY['filed','published','registered','refused','withdrawn'])[n %% 5 + 1], 'bg',
        '[]'::jsonb, n %% 500 = 0, '', 1, now(), now()
    FROM generate_series(1, %(n)s) AS n
    """,
    # Vienna codes (one per dossier, none for a quarter): rows inserted without the column get
    # its database default, as a bulk load would.
    """
    UPDATE dossier_dossier SET vienna_codes = jsonb_build_array(
        lpad((n %% 29 + 1)::text, 2, '0') || '.0' || (n %% 5 + 1) || '.0' || (n %% 9 + 1))
    FROM generate_series(1, %(n)s) AS n
    WHERE id = md5('dossier' || n)::uuid AND n %% 4 <> 0
    """,
    """
    INSERT INTO dossier_blob (sha256, size, media_type, created_at, verified_at)
    SELECT encode(sha256(('mark' || n)::bytea), 'hex'), 40000, 'image/png', now(), now()
    FROM generate_series(1, %(n)s) AS n
    """,
    """
    INSERT INTO dossier_document (id, direction, official_date, channel, language, title,
        registry_id, visibility, state, cancel_reason, page_count, latest_version, revision,
        created_at, updated_at, type_code, dossier_id, paper_location, paper_note,
        redaction_required)
    SELECT md5('document' || n)::uuid, 'in', DATE '2020-01-01' + (n %% 1500), 'efiling', 'bg',
        'Representation', 'R' || n,
        CASE WHEN n %% 50 = 0 THEN 'internal' ELSE 'public_after_publication' END,
        CASE WHEN n %% 1000 = 1 THEN 'qc_pending' ELSE 'active' END, '', 1, 1, 1, now(), now(),
        CASE WHEN n %% 5 = 0 THEN 'DREP' ELSE 'MARK' END, md5('dossier' || n)::uuid, '', '', false
    FROM generate_series(1, %(n)s) AS n
    """,
    """
    INSERT INTO dossier_version (number, filename, media_type, created_at, blob_id, document_id,
        detected_media_type, page_count, languages, metadata, quality, quality_reason,
        expunge_reason, expunge_reference)
    SELECT 1, 'mark-' || n || '.png', 'image/png', now(), encode(sha256(('mark' || n)::bytea),
        'hex'), md5('document' || n)::uuid, 'image/png', 1, '[]'::jsonb, '{}'::jsonb, 'good', '',
        '', ''
    FROM generate_series(1, %(n)s) AS n
    """,
]


def run(vectors: np.ndarray, queries: list) -> None:
    """Load `vectors` (n x views x dimensions) as n marks, then time `queries` (images: their
    features and the search) for an examiner and the public, and the first query of a cold
    matrix."""
    server = POSTGRES.rstrip("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    try:
        with tempfile.TemporaryDirectory(prefix="edms-bench-marks-") as data_dir:
            _setup_django(f"{server}/{BENCH_DATABASE}", Path(data_dir))
            # Shuffled, so that a generated mark's jittered copies are spread over dossiers of
            # every kind and status, as similar marks of an office are.
            shuffled = vectors[np.random.default_rng(1).permutation(len(vectors))]
            load_s = _load(f"{server}/{BENCH_DATABASE}", shuffled)
            print(
                f"\n{len(vectors):,} marks in PostgreSQL, one per dossier, loaded in {load_s:.0f} s"
            )
            _measure(queries)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def _setup_django(database_url: str, data_dir: Path) -> None:
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


def _load(database_url: str, vectors: np.ndarray) -> float:
    began = time.perf_counter()
    with psycopg.connect(database_url) as connection:
        for sql in LOAD_SQL:
            connection.execute(sql, {"n": len(vectors)})
        version_of = dict(
            connection.execute("SELECT document_id, id FROM dossier_version").fetchall()
        )
        with connection.cursor().copy(
            "COPY similarity_markimage (version_id, document_id, vectors, computed_at) FROM STDIN"
        ) as copy:
            for n, vector in enumerate(vectors, start=1):
                document = uuid.UUID(hashlib.md5(f"document{n}".encode()).hexdigest())
                copy.write_row((version_of[document], document, vector.tobytes(), "now()"))
        connection.execute("ANALYZE")
    return time.perf_counter() - began


def _measure(queries: list) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection

    from dossier.roles import Role
    from similarity import marks, marks_features
    from similarity.duplicate_models import MarkImage
    from tests.factories import UserFactory

    examiner = UserFactory(username="bench-marks-examiner", role=Role.EXAMINER)
    callers = [("examiner", examiner), ("public", AnonymousUser())]

    marks._cache.clear()  # what a fresh web process has: no matrix yet
    connection.close()

    def search(image, user, **filters):
        return marks.similar_marks(marks_features.query_vectors(image), user, limit=20, **filters)

    first = _timed(lambda: search(queries[0], examiner))
    print(
        f"  first query of a cold process (matrix of {MarkImage.objects.count():,} marks read "
        f"from the database): {first[0]:.0f} ms wall, {first[1]:.0f} ms CPU"
    )
    print(
        f"  {'caller, filters':<34} {'p50 wall':>9} {'p95 wall':>9} {'p50 CPU':>8} {'p95 CPU':>8}"
    )
    cases: list[tuple[str, object, dict]] = []
    for name, user in callers:
        cases.append((name, user, {}))
        cases.append((f"{name}, ip_type=trademark", user, {"ip_types": ["trademark"]}))
        cases.append((f"{name}, status=registered", user, {"statuses": ["registered"]}))
        cases.append((f"{name}, vienna=26", user, {"vienna_prefixes": ["26"]}))
    for name, user, filters in cases:
        search(queries[0], user, **filters)  # warm this caller's path
        walls, cpus = [], []
        for query in queries:
            wall, cpu = _timed(lambda q=query, u=user, f=filters: search(q, u, **f))
            walls.append(wall)
            cpus.append(cpu)
        print(
            f"  {name:<34} {statistics.median(walls):>7.1f}ms {_p95(walls):>7.1f}ms "
            f"{statistics.median(cpus):>6.1f}ms {_p95(cpus):>6.1f}ms"
        )


def _timed(call: Callable[[], object]) -> tuple[float, float]:
    """(wall ms, this process's CPU ms) of one call; PostgreSQL's own CPU is not counted."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]
