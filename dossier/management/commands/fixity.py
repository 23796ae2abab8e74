from django.core.management.base import BaseCommand, CommandError

from dossier import blobstore
from dossier.fixity import check_all
from dossier.models import Blob


class Command(BaseCommand):
    help = "Re-hash stored blobs and report any that are missing or do not match their digest."

    def add_arguments(self, parser):
        parser.add_argument("--sha256", action="append", help="Check only these blobs.")
        parser.add_argument(
            "--sweep",
            action="store_true",
            help="Also remove spool/staging leftovers older than a day.",
        )

    def handle(self, *args, sha256=None, sweep=False, **options):
        blobs = Blob.objects.order_by("sha256")
        if sha256:
            blobs = blobs.filter(sha256__in=sha256)
        # Expunged content is gone on purpose: counted, never checked nor reported missing.
        expunged = blobs.filter(expunged_at__isnull=False).count()
        blobs = blobs.filter(expunged_at__isnull=True)
        total = blobs.count()
        bad = 0
        for index, (blob, problem) in enumerate(check_all(blobs.iterator()), start=1):
            if problem is not None:
                bad += 1
                self.stdout.write(f"{problem.problem.upper()} {blob.sha256}: {problem.detail}")
            if index % 100 == 0:
                self.stderr.write(f"checked {index}/{total}")
        if sweep:
            self.stdout.write(f"swept {blobstore.sweep_stale()} stale spool/staging file(s)")
        self.stdout.write(
            f"fixity: {total} blob(s) checked, {total - bad} ok, {bad} bad"
            + (f", {expunged} expunged (not checked)" if expunged else "")
        )
        if bad:
            raise CommandError(f"{bad} blob(s) failed the fixity check")
