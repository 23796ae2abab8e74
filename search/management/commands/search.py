"""`edms search <reindex|reconcile|sync|status|reset>`: operate the search index."""

from __future__ import annotations

import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from search import indexer
from search.backends import SearchUnavailable, get_backend


class Command(BaseCommand):
    help = "Operate the search index: rebuild, repair, catch up, show status."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        rebuild = commands.add_parser("reindex", help="Rebuild into a new index, then switch.")
        rebuild.add_argument(
            "--restart", action="store_true", help="Start over instead of resuming a run."
        )
        repair = commands.add_parser("reconcile", help="Compare DB and index; repair.")
        repair.add_argument("--dry-run", action="store_true", help="Report only.")
        catch_up = commands.add_parser(
            "sync", help="Apply outbox events not yet indexed (the index worker's job)."
        )
        catch_up.add_argument("--batch-size", type=int, default=indexer.BATCH_SIZE)
        commands.add_parser("status", help="Index lag and engine facts, as JSON.")
        commands.add_parser("reset", help="Replace the index by an empty one (then reindex).")

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, f"do_{action}")(**options)
        except SearchUnavailable as exc:
            raise CommandError(f"the search engine is unavailable: {exc}") from exc

    def do_reindex(self, *, restart: bool = False, **options):
        started = time.monotonic()
        run = indexer.reindex(resume=not restart, progress=self._progress)
        self.stderr.write("")
        seconds = time.monotonic() - started
        self.stdout.write(
            f"reindexed {run.indexed} documents into {run.generation} in {seconds:.1f} s; "
            "it is now the active index"
        )

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r[{bar}] {done}/{total}")
        sys.stderr.flush()

    def do_reconcile(self, *, dry_run: bool = False, **options):
        found = indexer.reconcile(repair=not dry_run)
        verb = "found" if dry_run else "repaired"
        for label, ids in (
            ("missing", found.missing),
            ("stale", found.stale),
            ("extra", found.extra),
        ):
            for document_id in ids:
                self.stdout.write(f"{label}: {document_id}")
        self.stdout.write(
            f"{verb}: {len(found.missing)} missing, {len(found.stale)} stale, "
            f"{len(found.extra)} extra"
        )

    def do_sync(self, *, batch_size: int = indexer.BATCH_SIZE, **options):
        self.stdout.write(f"applied {indexer.sync(batch_size=batch_size)} events")

    def do_status(self, **options):
        report = {"lag": indexer.lag(), "engine": get_backend().status()}
        self.stdout.write(json.dumps(report, indent=2, default=str))

    def do_reset(self, **options):
        generation = get_backend().reset()
        self.stdout.write(f"the active index is now the empty {generation}; run reindex")
