"""Audit-chain benchmark: what the tamper-evident chain (dossier.audit_chain) costs on upload
throughput. Goal: at most 10 % fewer uploads per second with it than without.

Two legs, each a fresh data directory and the real server (gunicorn, one gthread worker with
four threads; SQLite, or with `--postgres URL` a fresh PostgreSQL database on that server): with the
chain on (the default) and off (EDMS_AUDIT_CHAIN=false, a setting for this benchmark only). In
each, N small documents are filed through `POST /api/v1/dossiers/{key}/documents` by
`--concurrency` clients at once; every filing writes its audit row, so writers queue on the
chain's head when it is on. The legs alternate `--rounds` times; the best round of each counts.
It prints uploads per second of both and their ratio, and runs `edms audit verify` on the chain.
As the HTTP path's time varies with the machine's load, it also times one audit row written
in-process, chain off and on: the chain's own cost per row, beside a filing's time.

    python -m tests.bench.audit_chain [--uploads 300] [--concurrency 4] [--rounds 2]
                                      [--postgres postgres://user:password@host:port]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import requests

from edms import localbroker
from tests.bench.served import api_session, edms, edms_server, expect, leg_environment, tail

DOSSIER_KEY = "BG/P/2024/7"
COST_GOAL = 0.10


def file_one(session: requests.Session, url: str, n: int) -> None:
    response = session.post(
        f"{url}/api/v1/dossiers/{DOSSIER_KEY}/documents",
        data={"type": "CLM"},
        files={"file": (f"claims-{n}.txt", f"{n}. A benchmark, comprising a file.".encode())},
    )
    expect(response, 201)


@contextlib.contextmanager
def fresh_database(server: str, name: str) -> Iterator[str]:
    """An empty PostgreSQL database on `server` for one leg, dropped afterwards."""
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def leg(workdir: Path, *, chain: bool, uploads: int, concurrency: int, postgres: str = "") -> float:
    if not postgres:
        return _leg(workdir, chain=chain, uploads=uploads, concurrency=concurrency)
    with fresh_database(postgres, "edms_bench_audit_chain") as url:
        return _leg(workdir, chain=chain, uploads=uploads, concurrency=concurrency, database=url)


def _leg(
    workdir: Path, *, chain: bool, uploads: int, concurrency: int, database: str = ""
) -> float:
    """Uploads per second with the chain on or off, in a fresh data directory."""
    data_dir = Path(tempfile.mkdtemp(prefix="chain-on-" if chain else "chain-off-", dir=workdir))
    env = leg_environment(data_dir, EDMS_AUDIT_CHAIN="true" if chain else "false")
    if database:
        env["DATABASE_URL"] = database
    edms(env, "migrate", "--no-input")
    key = edms(env, "createapikey", "--name", "bench", "--role", "registry_system")
    token = key.strip().splitlines()[-1]
    log = data_dir / "server.log"
    with localbroker.running(data_dir), edms_server(env, log) as (url, _master):
        sessions = [api_session(token) for _ in range(concurrency)]
        sessions[0].put(
            f"{url}/api/v1/dossiers/{DOSSIER_KEY}", json={"ip_type": "patent"}
        ).raise_for_status()
        for n in range(10):  # warm up: the filing path loaded, the connection open
            file_one(sessions[0], url, -n)
        started = time.perf_counter()
        try:
            with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
                done = pool.map(
                    lambda n: file_one(sessions[n % concurrency], url, n), range(uploads)
                )
                list(done)
        except Exception:
            print(f"--- the end of the server's log:\n{tail(log)}\n---")
            raise
        seconds = time.perf_counter() - started
    if chain:
        print("  " + edms(env, "audit", "verify").strip())
    else:  # this database's rows are unchained already: time single rows here
        off, on = row_cost(env)
        print(f"  one audit row: {off:.0f} µs unchained, {on:.0f} µs chained (+{on - off:.0f} µs)")
    return uploads / seconds


# One audit row written in its own transaction, timed in-process with the chain off and on
# (alternating, best of three): the chain's own cost per row, free of the HTTP path's noise.
ROW_COST = """
import time
from django.db import transaction
from django.test.utils import override_settings
from dossier.audit import SYSTEM, record_audit

def per_row(count):
    started = time.perf_counter()
    for n in range(count):
        with transaction.atomic():
            record_audit(SYSTEM, "bench.row", object_type="bench", object_id=str(n))
    return (time.perf_counter() - started) / count

per_row(50)
off, on = [], []
for _ in range(3):
    with override_settings(EDMS_AUDIT_CHAIN=False):
        off.append(per_row(500))
    with override_settings(EDMS_AUDIT_CHAIN=True):
        on.append(per_row(500))
print(min(off) * 1e6, min(on) * 1e6)
"""


def row_cost(env: dict[str, str]) -> tuple[float, float]:
    """Microseconds to write one audit row without and with the chain."""
    off, on = edms(env, "shell", "-c", ROW_COST).split()[-2:]
    return float(off), float(on)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tmp-dir", default=None)
    parser.add_argument("--postgres", default="", help="postgres://user:password@host:port")
    options = parser.parse_args()
    print(
        f"audit chain: {options.uploads} small uploads, {options.concurrency} clients, "
        f"best of {options.rounds} rounds"
    )
    best = {False: 0.0, True: 0.0}
    with tempfile.TemporaryDirectory(prefix="edms-bench-chain-", dir=options.tmp_dir) as tmp:
        for round_number in range(1, options.rounds + 1):
            for chain in (False, True):
                rate = leg(
                    Path(tmp),
                    chain=chain,
                    uploads=options.uploads,
                    concurrency=options.concurrency,
                    postgres=options.postgres,
                )
                best[chain] = max(best[chain], rate)
                print(f"  round {round_number}, chain {'on ' if chain else 'off'}: {rate:.1f}/s")
    ratio = best[True] / best[False]
    cost = 1 - ratio
    verdict = "within" if cost <= COST_GOAL else "OVER"
    print(f"without the chain: {best[False]:.1f} uploads/s")
    print(f"with the chain:    {best[True]:.1f} uploads/s")
    print(f"ratio {ratio:.3f}: the chain costs {cost:+.1%} ({verdict} the {COST_GOAL:.0%} goal)")


if __name__ == "__main__":
    main()
