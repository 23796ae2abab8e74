from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from operations.backup import BackupError, back_up


class Command(BaseCommand):
    help = (
        "Back up the database and every blob into a folder (blobs already there are not copied "
        "again). The search index is rebuilt on restore, so it is not included."
    )

    def add_arguments(self, parser):
        parser.add_argument("destination", type=Path, help="The backup folder (made if missing).")

    def handle(self, *args, destination: Path, **options):
        try:
            manifest = back_up(destination, progress=self._progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write("")
        self.stdout.write(
            f"backup in {destination}: {manifest.database} database, {manifest.blobs} blob(s), "
            f"{manifest.blob_bytes} bytes"
        )
        if manifest.missing_blobs:
            raise CommandError(
                f"{len(manifest.missing_blobs)} blob(s) were missing from the store and are not "
                f"in the backup (run edms fixity): {', '.join(manifest.missing_blobs[:5])}"
            )

    def _progress(self, done: int, total: int) -> None:
        if done % 100 == 0 or done == total:
            self.stderr.write(f"\rblobs {done}/{total}", ending="")
