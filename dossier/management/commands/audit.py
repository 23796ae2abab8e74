import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dossier.audit_chain import verify_chain
from dossier.audit_export import chain_export_lines, export_lines
from dossier.audit_export_check import load_public_key, read_exports, verify_exports
from dossier.audit_signing import checkpoint_problems, public_key_pem, signing_key, write_checkpoint
from dossier.models import AuditCheckpoint
from dossier.numbering import InvalidFileNumber, normalise_key


class Command(BaseCommand):
    help = (
        "The tamper-evident audit trail: verify the chain, sign a checkpoint, print the public "
        "key, export a dossier's trail."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        verify = commands.add_parser("verify", help="Walk the chain; exit 1 at the first break.")
        verify.add_argument("--since", type=int, default=1, help="Start at this row number.")
        verify.add_argument(
            "--export",
            metavar="PATH",
            help="Verify exported trails instead of the database: a file of `audit export` "
            "(one or more exports), or a directory of such *.jsonl files.",
        )
        verify.add_argument(
            "--public-key",
            metavar="PEM_FILE",
            help="With --export: the office's public key (`audit public-key`); without it the "
            "key each export carries is used, which proves only that the export is whole.",
        )
        commands.add_parser("checkpoint", help="Sign the chain's head now.")
        commands.add_parser("public-key", help="Print the checkpoints' public key (PEM).")
        export = commands.add_parser("export", help="A dossier's trail as JSON lines.")
        export.add_argument("key", nargs="?", help="The dossier's file number.")
        export.add_argument(
            "--since", type=int, help="Instead of a dossier's: every row from this number on."
        )
        export.add_argument("--output", "-o", help="Write here instead of standard output.")

    def handle(self, *args, command, **options):
        getattr(self, "_" + command.replace("-", "_"))(**options)

    def _verify(self, since, export=None, public_key=None, **options):
        if export is not None:
            return self._verify_export(Path(export), public_key)
        if public_key is not None:
            raise CommandError("--public-key goes with --export")
        checked, found = verify_chain(since)
        key = signing_key()
        problems = checkpoint_problems(key.public_key() if key else None, since)
        if found is not None:
            problems.insert(0, str(found))
        if problems:
            raise CommandError(
                f"audit chain broken ({checked} rows checked):\n  " + "\n  ".join(problems)
            )
        signed = "" if key else " (no signing key: checkpoint signatures not checked)"
        count = AuditCheckpoint.objects.filter(seq__gte=since).count()
        self.stdout.write(
            f"audit chain holds: {checked} rows from {since}, {count} checkpoints hold{signed}"
        )

    def _verify_export(self, path: Path, public_key_file: str | None) -> None:
        if not path.exists():
            raise CommandError(f"{path} does not exist")
        try:
            key = load_public_key(Path(public_key_file).read_bytes()) if public_key_file else None
            report = verify_exports(read_exports(path), key)
        except (OSError, ValueError) as exc:  # unreadable, not JSON, not a key
            raise CommandError(str(exc)) from None
        summary = (
            f"{report.rows} rows in {report.trails} exported trails, {report.signed} with a "
            f"checkpoint whose signature holds"
        )
        if report.failures:
            shown = report.failures[:20]
            more = len(report.failures) - len(shown)
            raise CommandError(
                f"exported audit trail broken ({summary}; {len(report.failures)} failing):\n  "
                + "\n  ".join(shown)
                + (f"\n  … and {more} more" if more else "")
            )
        if report.trails == 0:
            raise CommandError(f"{path} holds no exported audit trail")
        whose = "the given public key" if public_key_file else "the key each export carries"
        self.stdout.write(f"exported audit trails hold: {summary} (by {whose})")

    def _checkpoint(self, **options):
        key = signing_key()
        if key is None:
            raise CommandError("no EDMS_AUDIT_SIGNING_KEY (or _FILE) is configured")
        checkpoint = write_checkpoint(key)
        if checkpoint is None:
            self.stdout.write("the audit chain is empty: nothing to sign")
        else:
            self.stdout.write(f"checkpoint {checkpoint.seq} {checkpoint.head_hash} signed")

    def _public_key(self, **options):
        key = signing_key()
        if key is None:
            raise CommandError("no EDMS_AUDIT_SIGNING_KEY (or _FILE) is configured")
        self.stdout.write(public_key_pem(key.public_key()).strip())

    def _export(self, key=None, since=None, output=None, **options):
        if (key is None) == (since is None):
            raise CommandError("name a dossier's file number or --since a row number")
        if since is not None:
            lines, key = chain_export_lines(since), f"rows {since} on"
        else:
            try:
                key = normalise_key(key)  # any accepted form of the file number
            except InvalidFileNumber as exc:
                raise CommandError(str(exc)) from None
            lines = export_lines(key)
        target = open(output, "w", encoding="utf-8") if output else None
        stream = target or self.stdout
        try:
            for line in lines:
                stream.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
        finally:
            if target is not None:
                target.close()
        if output:
            sys.stderr.write(f"audit trail of {key} written to {output}\n")
