from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from operations.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `edms backup` into this instance (its database must hold no "
        "dossier): the database, then migrations, the blobs (each checked against its SHA-256) "
        "and a rebuilt search index. Stop edms (web server and workers) first."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path, help="The backup folder.")
        parser.add_argument(
            "--no-reindex",
            action="store_true",
            help="Leave the search index alone (rebuild it later with edms search reindex).",
        )

    def handle(self, *args, source: Path, no_reindex: bool = False, **options):
        try:
            manifest = restore(source, progress=self._progress, reindex=not no_reindex)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write("")
        self.stdout.write(
            f"restored the backup of {manifest.created_at}: {manifest.blobs} blob(s); "
            "check it with edms fixity"
        )

    def _progress(self, done: int, total: int) -> None:
        if done % 100 == 0 or done == total:
            self.stderr.write(f"\rblobs {done}/{total}", ending="")
