import json
import sys

from django.core.management.base import BaseCommand, CommandError

from dossier.audit_chain import verify_chain
from dossier.audit_export import export_lines
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
        commands.add_parser("checkpoint", help="Sign the chain's head now.")
        commands.add_parser("public-key", help="Print the checkpoints' public key (PEM).")
        export = commands.add_parser("export", help="A dossier's trail as JSON lines.")
        export.add_argument("key", help="The dossier's file number.")
        export.add_argument("--output", "-o", help="Write here instead of standard output.")

    def handle(self, *args, command, **options):
        getattr(self, "_" + command.replace("-", "_"))(**options)

    def _verify(self, since, **options):
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

    def _export(self, key, output=None, **options):
        try:
            key = normalise_key(key)  # any accepted form of the file number
        except InvalidFileNumber as exc:
            raise CommandError(str(exc)) from None
        target = open(output, "w", encoding="utf-8") if output else None
        stream = target or self.stdout
        try:
            for line in export_lines(key):
                stream.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
        finally:
            if target is not None:
                target.close()
        if output:
            sys.stderr.write(f"audit trail of {key} written to {output}\n")
