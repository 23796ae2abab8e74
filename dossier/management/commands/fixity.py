from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dossier import blobstore
from dossier.fixity_pass import due_share, ran_recently, run_pass
from dossier.models import Blob


class Command(BaseCommand):
    help = (
        "Re-hash stored blobs and report any that are missing or do not match their digest: "
        "all of them, or with --cycle-days the share due in a scrub cycle of that many days."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sha256", action="append", help="Check only these blobs.")
        parser.add_argument(
            "--cycle-days",
            type=int,
            help="Check only the share due today so that every blob is checked within this "
            "many days (the least recently verified first; blobs marked corrupt every time).",
        )
        parser.add_argument(
            "--max-bytes",
            type=int,
            default=None,
            help="Stop after reading this many bytes (default EDMS_FIXITY_MAX_BYTES; 0: no bound).",
        )
        parser.add_argument(
            "--max-seconds",
            type=int,
            default=None,
            help="Stop after this many seconds (default EDMS_FIXITY_MAX_SECONDS with "
            "--cycle-days, else none; 0: no bound).",
        )
        parser.add_argument(
            "--scheduled",
            action="store_true",
            help="As `edms run` starts it: skip if a scheduled pass started within "
            "EDMS_FIXITY_INTERVAL, and exit 0 even when blobs are bad (they are announced on "
            "the event feed and shown on the operations page).",
        )
        parser.add_argument(
            "--sweep",
            action="store_true",
            help="Also remove spool/staging leftovers older than a day.",
        )

    def handle(
        self,
        *args,
        sha256=None,
        cycle_days=None,
        max_bytes=None,
        max_seconds=None,
        scheduled=False,
        sweep=False,
        **options,
    ):
        if cycle_days is not None and cycle_days < 1:
            raise CommandError("--cycle-days must be at least 1")
        if scheduled:
            cycle_days = cycle_days or settings.EDMS_FIXITY_CYCLE_DAYS
            # A restart of `edms run` starts its processes again: not another pass each time.
            if ran_recently(settings.EDMS_FIXITY_INTERVAL * 0.9):
                return
        if max_bytes is None:
            max_bytes = settings.EDMS_FIXITY_MAX_BYTES
        if max_seconds is None:
            max_seconds = settings.EDMS_FIXITY_MAX_SECONDS if cycle_days else 0
        blobs = Blob.objects.order_by("sha256")
        if sha256:
            blobs = blobs.filter(sha256__in=sha256)
        # Expunged content is gone on purpose: counted, never checked nor reported missing.
        expunged = blobs.filter(expunged_at__isnull=False).count()
        if cycle_days:
            chosen = [b for b in due_share(cycle_days) if not sha256 or b.sha256 in sha256]
            total, planned = len(chosen), chosen
        else:
            live = blobs.filter(expunged_at__isnull=True)
            total, planned = live.count(), live.iterator()

        def report(index, blob, problem):
            if problem is not None:
                self.stdout.write(f"{problem.problem.upper()} {blob.sha256}: {problem.detail}")
            if index % 100 == 0:
                self.stderr.write(f"checked {index}/{total}")

        record = run_pass(
            planned,
            planned=total,
            cycle_days=cycle_days,
            max_bytes=max_bytes,
            max_seconds=max_seconds,
            on_checked=report,
        )
        if sweep:
            self.stdout.write(f"swept {blobstore.sweep_stale()} stale spool/staging file(s)")
        bad = len(record.bad)
        self.stdout.write(
            f"fixity: {record.checked} blob(s) checked, {record.checked - bad} ok, {bad} bad"
            + (f", {record.left_due} left for the next pass" if record.left_due else "")
            + (f", {expunged} expunged (not checked)" if expunged else "")
        )
        if bad and not scheduled:
            raise CommandError(f"{bad} blob(s) failed the fixity check")
