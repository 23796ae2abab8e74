"""Audit-chain benchmark: what the tamper-evident chain (dossier.audit_chain) costs on upload
throughput. Goal: at most 10 % fewer uploads per second with it than without.

Two legs, each a fresh data directory and the real server (gunicorn, one gthread worker with
four threads; SQLite, or the PostgreSQL database `--database-url` names, emptied first): with the
chain on (the default) and off (EDMS_AUDIT_CHAIN=false, a setting for this benchmark only). In
each, N small documents are filed through `POST /api/v1/dossiers/{key}/documents` by
`--concurrency` clients at once; every filing writes its audit row, so writers queue on the
chain's head when it is on. The legs alternate `--rounds` times; the best round of each counts.
It prints uploads per second of both and their ratio, and runs `edms audit verify` on the chain.

    python -m tests.bench.audit_chain [--uploads 300] [--concurrency 4] [--rounds 2]
                                      [--database-url postgres://…/scratch]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import tempfile
import time
from pathlib import Path

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


def leg(
    workdir: Path, *, chain: bool, uploads: int, concurrency: int, database_url: str = ""
) -> float:
    """Uploads per second with the chain on or off, in a fresh data directory."""
    data_dir = Path(tempfile.mkdtemp(prefix="chain-on-" if chain else "chain-off-", dir=workdir))
    env = leg_environment(data_dir, EDMS_AUDIT_CHAIN="true" if chain else "false")
    if database_url:
        env["DATABASE_URL"] = database_url
        edms(env, "migrate", "--no-input")
        edms(env, "flush", "--no-input")
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
    return uploads / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tmp-dir", default=None)
    parser.add_argument("--database-url", default="", help="A PostgreSQL database to empty.")
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
                    database_url=options.database_url,
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
