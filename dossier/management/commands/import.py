"""`edms import <manifest.csv|manifest.json|folder>`: file a backfile in the bulk lane."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from dossier import importing, lanes
from dossier.audit import Actor
from dossier.importing import ManifestError, Outcome
from dossier.models import IpType


class Command(BaseCommand):
    help = (
        "Import documents listed by a CSV/JSON manifest (file_number, type, date, path; "
        "optionally title, language, ip_type) or held by a folder (one subfolder per dossier, "
        "named by its file number with _ for /; files named <type>[_<date>][_<title>].<ext>). "
        "Files already imported are skipped, so an interrupted import is simply run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="A .csv or .json manifest, or a folder.")
        parser.add_argument(
            "--ip-type",
            default="",
            choices=IpType.values,
            help="Create missing dossiers with this IP type (a manifest's ip_type field wins). "
            "Without it, a line whose dossier does not exist fails.",
        )
        parser.add_argument(
            "--actor", default="import", help="Who the audit trail names (default: import)."
        )

    def handle(self, *args, source: str, ip_type: str, actor: str, **options):
        try:
            lines = importing.read_lines(Path(source))
        except ManifestError as exc:
            raise CommandError(str(exc)) from None
        outcomes: Counter[Outcome] = Counter()
        dossiers_created = 0
        who = Actor(label=actor)
        bar = tqdm(lines, unit="file", desc="importing", disable=None, file=self.stderr._out)
        # Bulk work: what it causes queues behind what people file one at a time.
        with lanes.bulk(), bar:
            for line in bar:
                result = importing.import_line(line, actor=who, default_ip_type=ip_type)
                outcomes[result.outcome] += 1
                dossiers_created += result.created_dossier
                if result.outcome is Outcome.FAILED:
                    bar.write(f"FAILED {line.where}: {result.detail}", file=self.stderr._out)
        failed = outcomes[Outcome.FAILED]
        self.stdout.write(
            f"import: {len(lines)} file(s): {outcomes[Outcome.FILED]} filed, "
            f"{outcomes[Outcome.SKIPPED]} skipped (filed already), {failed} failed; "
            f"{dossiers_created} dossier(s) created"
        )
        if failed:
            raise CommandError(
                f"{failed} file(s) failed (listed above); correct them and run the import again "
                "(what is filed already is skipped)"
            )
