"""`edms find_duplicates`: fingerprint processed versions and flag near-duplicates (backfill)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from tqdm import tqdm

from similarity import marks, near_duplicates


class Command(BaseCommand):
    help = (
        "Check processed versions for near-duplicates: those never checked and those whose "
        "page images came later, or were hashed page by page later (--all: every version "
        "again). Here, not on the queue."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--all", action="store_true", help="check every processed version")

    def handle(self, *args, all: bool = False, **options) -> None:
        versions = (
            near_duplicates.processed_versions()
            if all
            else near_duplicates.versions_to_fingerprint()
        )
        ids = list(versions.values_list("id", flat=True))
        flags = 0
        for version_id in tqdm(ids, unit="version", disable=None, file=self.stderr):
            flags += len(near_duplicates.fingerprint_version(version_id))
            marks.index_mark(version_id)
        self.stdout.write(
            f"checked {len(ids)} version(s); {flags} duplicate flag(s) raised or updated"
        )
