"""`edms scan_inbox`: watch the scanners' folder (EDMS_SCAN_INBOX) and submit complete files."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from scanning.inbox import Inbox, watch


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--path", help="The folder (default: EDMS_SCAN_INBOX).")
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between looks.")
        parser.add_argument(
            "--settle", type=float, help="Seconds a file must stay unchanged (no .done marker)."
        )
        parser.add_argument("--once", action="store_true", help="Look twice, then stop.")

    def handle(self, *args, **options):
        if not (options["path"] or settings.EDMS_SCAN_INBOX):
            raise CommandError("no folder: set EDMS_SCAN_INBOX or pass --path")
        inbox = Inbox.from_settings()
        if options["path"]:
            inbox.path = Path(options["path"])
        if options["settle"] is not None:
            inbox.settle_seconds = options["settle"]
        if not inbox.path.is_dir():
            raise CommandError(f"{inbox.path} is not a directory")
        if options["once"]:
            # Two looks, `settle` apart: files complete now are taken, half-copied ones are not.
            watch(inbox, interval=0, once=True)
            time.sleep(inbox.settle_seconds)
            watch(inbox, interval=0, once=True)
            return
        self.stdout.write(f"watching {inbox.path} every {options['interval']} s")
        watch(inbox, interval=options["interval"])
