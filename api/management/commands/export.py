"""`edms export KEY... --out DIR`: dossiers as packages (files + manifest), one ZIP per dossier.

The same package as `GET /api/v1/dossiers/{key}/export`, for publication servers and exchange
batches with WIPO services. It exports what `--user` may see (by default: what the public may
see), and every exported file is audited as a download by that user.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from api import export
from api.serializers import ExportParamsSerializer
from dossier import access
from dossier.audit import Actor
from dossier.models import Document
from dossier.numbering import InvalidFileNumber


class Command(BaseCommand):
    help = "Write dossiers as ZIP packages (files + manifest.json), one per dossier, streamed."

    def add_arguments(self, parser):
        parser.add_argument("keys", nargs="+", metavar="KEY", help="File numbers (or UUIDs).")
        parser.add_argument("--out", required=True, help="Directory to write <file-number>.zip.")
        parser.add_argument(
            "--user", help="Export what this user may see, audited as them (default: the public)."
        )
        parser.add_argument("--versions", choices=["latest", "all"], default="latest")
        parser.add_argument("--renditions", action="append", default=[], help="pdfa, pdf")
        parser.add_argument("--type", action="append", default=[], help="Type code(s).")
        parser.add_argument("--direction")
        parser.add_argument("--date-from")
        parser.add_argument("--date-to")
        parser.add_argument("--visibility")
        parser.add_argument("--include-cancelled", action="store_true")

    def handle(self, *args, keys, out, user, **options):
        directory = Path(out)
        directory.mkdir(parents=True, exist_ok=True)
        who, actor = self._who(user)
        params = ExportParamsSerializer(data=self._query(options))
        if not params.is_valid():
            raise CommandError(f"invalid options: {params.errors}")
        selection = params.selection()
        failed = []
        for key in keys:
            try:
                dossier = access.get_dossier_for(who, key)
            except (access.NotFound, InvalidFileNumber) as exc:
                self.stderr.write(f"{key}: not exported: {exc}")
                failed.append(key)
                continue
            package = export.build_package(
                who, dossier, params.apply(Document.objects.all()), selection
            )
            path = directory / package.filename
            size = self._write(package, path, actor)
            self.stdout.write(f"{path}  {len(package.files)} files, {size} bytes")
            for item in package.missing:
                self.stderr.write(
                    f"{key}: {item.path} left out, its content (sha256 {item.sha256}) is missing "
                    "from storage; listed under `missing` in the manifest (see edms fixity)"
                )
        if failed:
            raise CommandError(f"not exported (unknown or not visible): {', '.join(failed)}")

    def _who(self, username: str | None):
        if not username:
            return AnonymousUser(), Actor(label="edms export")
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
        return user, Actor(user=user)

    @staticmethod
    def _query(options: dict) -> QueryDict:
        query = QueryDict(mutable=True)
        query["versions"] = options["versions"]
        query.setlist("renditions", options["renditions"])
        query.setlist("type", options["type"])
        for name in ("direction", "date_from", "date_to", "visibility"):
            if options[name]:
                query[name] = options[name]
        if options["include_cancelled"]:
            query["include_cancelled"] = "true"
        return query

    @staticmethod
    def _write(package: export.Package, path: Path, actor: Actor) -> int:
        """Stream the package into `path`, complete or not at all (written aside, then renamed)."""
        partial = path.with_name(path.name + ".part")
        size = 0
        package.record_downloads(actor)
        try:
            with open(partial, "wb") as handle:
                for chunk in package.stream():
                    handle.write(chunk)
                    size += len(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return size
