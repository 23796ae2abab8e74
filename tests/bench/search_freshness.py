"""What keeping search fresh costs (`search.freshness`), and what the alternative would cost.

Files documents in a real database (SQLite unless DATABASE_URL says otherwise), indexes them
with the real indexer, then stops indexing and reclassifies: N documents made confidential, M
dossiers made secret, beyond the bound. For each state it times `find_documents` as the public
and as an examiner (a query matching every document, 20 hits a page) and counts its database
queries, next to the same search with the check switched off. Then it times what the other design —
write the index before acknowledging the change — would add to the action: re-indexing one
document, and one dossier's documents when the dossier is made secret.

    python -m tests.bench.search_freshness [--dossiers 200] [--per-dossier 50] [--runs 50]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

from edms import localbroker
from tests.bench.search import percentile, setup_django, timed


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.bench.search_freshness")
    parser.add_argument("--dossiers", type=int, default=200)
    parser.add_argument("--per-dossier", type=int, default=50)
    parser.add_argument("--runs", type=int, default=50, help="searches timed per state")
    parser.add_argument("--tmp-dir", help="where the database and index go ($TMPDIR)")
    return parser.parse_args(argv)


def file_office(dossiers: int, per_dossier: int) -> list:
    import datetime as dt

    from django.utils import timezone

    from dossier import actions
    from dossier.audit import Actor
    from dossier.models import Document, DocumentType

    actor = Actor(label="bench")
    published = timezone.localdate() - dt.timedelta(days=1)
    claims = DocumentType.objects.get(code="CLM")
    created = []
    for number in range(1, dossiers + 1):
        dossier, _ = actions.upsert_dossier(
            f"BG/P/2020/{number}",
            {"ip_type": "patent", "title": f"Gear train {number}", "published_at": published},
            actor=actor,
        )
        rows = [
            Document(
                dossier=dossier,
                doc_type=claims,
                direction="in",
                visibility="public",
                title=f"Claims of the gearbox {number}.{n}",
            )
            for n in range(per_dossier)
        ]
        created += Document.objects.bulk_create(rows)
    return created


@contextlib.contextmanager
def unchecked():
    """find_documents as it was before `search.freshness`: the index trusted as it stands."""
    from search import freshness

    saved = freshness.exclusions, freshness.drop_unreadable
    freshness.exclusions = lambda user: freshness.Exclusions()
    freshness.drop_unreadable = lambda user, result: result
    try:
        yield
    finally:
        freshness.exclusions, freshness.drop_unreadable = saved


def measure(label: str, users: dict, runs: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from search import find

    criteria = find.Criteria(q="gear")
    for name, user in users.items():
        with CaptureQueriesContext(connection) as queries:
            body = find.find_documents(user, criteria)
        samples = timed(lambda user=user: find.find_documents(user, criteria), runs)
        with unchecked():
            plain = timed(lambda user=user: find.find_documents(user, criteria), runs)
        print(
            f"{label:<34} {name:<9} {body['count']:>7,} {len(queries):>8} "
            f"{percentile(samples, 0.5):>8.2f} {percentile(samples, 0.95):>8.2f} "
            f"{percentile(plain, 0.5):>8.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    with (
        tempfile.TemporaryDirectory(dir=args.tmp_dir, prefix="edms-fresh-bench-") as tmp,
        localbroker.running(Path(tmp)),
    ):
        setup_django(Path(tmp))
        from django.contrib.auth.models import AnonymousUser

        from dossier import actions
        from dossier.audit import Actor
        from dossier.roles import Role
        from search import freshness, indexer
        from search.backends import get_backend
        from tests.factories import UserFactory

        get_backend().reset()
        documents = file_office(args.dossiers, args.per_dossier)
        started = time.perf_counter()
        indexer.index_documents([str(d.id) for d in documents])
        indexer.sync()
        seconds = time.perf_counter() - started
        print(
            f"{len(documents):,} documents in {args.dossiers} dossiers, indexed in {seconds:.1f} s"
        )
        users = {"public": AnonymousUser(), "examiner": UserFactory(role=Role.EXAMINER)}
        actor = Actor(label="bench")

        from dossier.models import Document

        probe = documents[0].pk
        trivial = timed(lambda: list(Document.objects.filter(pk=probe).values_list("pk")), 50)
        print(f"for scale: one trivial ORM query here, p50 {percentile(trivial, 0.5):.2f} ms")
        print(f"\nfind_documents, {args.runs} runs (ms); unchecked = without the check")
        print(
            f"{'state (not indexed)':<34} {'as':<9} {'count':>7} {'queries':>8} "
            f"{'p50':>8} {'p95':>8} {'unchecked':>9}"
        )
        measure("nothing pending", users, args.runs)
        done = 0
        for target in (10, 100, 1000):
            for document in documents[done:target]:
                actions.update_document(document, {"visibility": "confidential"}, actor=actor)
            done = target
            measure(f"{target} documents made confidential", users, args.runs)
        for number in range(1, 11):
            actions.upsert_dossier(f"BG/P/2020/{number}", {"secret": True}, actor=actor)
        measure("+ 10 dossiers made secret", users, args.runs)
        over = freshness.MAX_PENDING + 1  # hidden from the public: beyond the bound
        for document in documents[done:over]:
            actions.update_document(document, {"visibility": "confidential"}, actor=actor)
        measure(f"{over} documents (over the bound)", users, args.runs)

        print("\nthe other design: index inside the action before acknowledging it (ms)")
        indexer.sync()
        single = timed(lambda: indexer.index_documents([str(documents[-1].id)], force=True), 20)
        print(f"{'re-index one document':<44} p50 {percentile(single, 0.5):>8.2f}")
        last = documents[-1].dossier_id
        ids = [str(d.id) for d in documents if d.dossier_id == last]
        whole = timed(lambda: indexer.index_documents(ids, force=True), 5)
        print(
            f"{f're-index a dossier of {len(ids)} documents':<44} "
            f"p50 {percentile(whole, 0.5):>8.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
