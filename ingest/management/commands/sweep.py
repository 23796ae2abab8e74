"""`edms sweep`: queue again versions and scan batches whose task was lost (see ingest.sweeper)."""

from __future__ import annotations

import logging
import time

from django.core.management.base import BaseCommand

from ingest.sweeper import sweep

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count, send nothing.")
        parser.add_argument(
            "--every", type=float, metavar="SECONDS", help="Keep sweeping at this interval."
        )

    def handle(self, *args, **options):
        while True:
            try:
                report = sweep(dry_run=options["dry_run"])
            except Exception:  # a database restart: log, try again next time
                if not options["every"]:
                    raise
                log.exception("sweep failed")
            else:
                # Kept quiet when sweeping forever and nothing was lost.
                if options["dry_run"]:
                    self.stdout.write(
                        f"{report.versions} versions and {report.batches} scan batches would "
                        "be queued again"
                    )
                elif not options["every"] or report.anything:
                    self.stdout.write(str(report))
            if not options["every"]:
                return
            time.sleep(options["every"])
