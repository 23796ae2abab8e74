"""Importing a backfile: many files, each filed as a document through `actions.attach_document`.

The files are listed either by a manifest or by a folder:

- a manifest, CSV (a header line, UTF-8) or JSON (a list of objects), with the fields
  `file_number`, `type`, `date` (YYYY-MM-DD, may be empty) and `path` (relative to the manifest's
  folder, or absolute), and optionally `title`, `language` and `ip_type`;
- a folder holding one subfolder per dossier, named by its file number with `_` for each `/`
  (`BG_P_2018_112748/`), holding files named `<type>[_<date>][_<title>].<extension>`
  (`CLM_2019-03-01.pdf`, `OA_2020-01-15_First office action.pdf`).

A dossier that does not exist is created when the line gives its IP type (`ip_type`, or a
default for all lines); otherwise the line fails. Importing is idempotent, hence resumable: a
file whose content is already a version of a document of its type in its dossier is skipped, so
an import killed half-way is simply run again. Each line is filed in its own transaction; a line
that fails is reported and the others go on. Everything runs in the bulk lane.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.blobstore import EmptyContent, UploadTooLarge
from dossier.models import Channel, DocumentType, Dossier, IpType, Version
from dossier.numbering import InvalidFileNumber, normalise_key

REQUIRED = ("file_number", "type", "date", "path")
OPTIONAL = ("title", "language", "ip_type")
CHUNK = 1024 * 1024
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ManifestError(ValueError):
    """The manifest as a whole cannot be read (no line is imported)."""


@dataclass(frozen=True)
class Line:
    """One file to import, and where it was listed (`where`: "line 4", "item 2", a path)."""

    where: str
    file_number: str
    type: str
    date: str
    path: Path
    title: str = ""
    language: str = ""
    ip_type: str = ""
    problem: str = ""  # known when listing (a file out of place in a folder)


class Outcome(Enum):
    FILED = "filed"
    SKIPPED = "skipped"  # filed by an earlier run
    FAILED = "failed"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    detail: str = ""
    created_dossier: bool = False


class LineError(Exception):
    """Why one line cannot be imported (the others go on)."""


# --- Reading the list of files --------------------------------------------------------------


def read_lines(source: Path) -> list[Line]:
    """The lines of a manifest (`.csv`, `.json`) or of a folder; `ManifestError` if unreadable."""
    if source.is_dir():
        return list(_folder_lines(source))
    suffix = source.suffix.lower()
    if suffix == ".csv":
        return list(_csv_lines(source))
    if suffix == ".json":
        return list(_json_lines(source))
    raise ManifestError(f"{source}: expected a folder, a .csv or a .json manifest")


def _checked_fields(fields: list[str], where: str) -> None:
    missing = [name for name in REQUIRED if name not in fields]
    unknown = [name for name in fields if name not in REQUIRED + OPTIONAL]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown {', '.join(unknown)}")
        raise ManifestError(
            f"{where}: {'; '.join(problems)} (fields: {', '.join(REQUIRED)}, optionally "
            f"{', '.join(OPTIONAL)})"
        )


def _line(where: str, values: dict, base: Path) -> Line:
    text = {name: str(values.get(name) or "").strip() for name in REQUIRED + OPTIONAL}
    path = Path(text.pop("path"))
    return Line(where=where, path=path if path.is_absolute() else base / path, **text)


def _csv_lines(source: Path) -> Iterator[Line]:
    try:
        with open(source, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            _checked_fields([name.strip() for name in reader.fieldnames or []], str(source))
            rows = [({k.strip(): v for k, v in row.items()}, reader.line_num) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ManifestError(f"{source}: {exc}") from None
    for row, number in rows:
        yield _line(f"line {number}", row, source.parent)


def _json_lines(source: Path) -> Iterator[Line]:
    try:
        items = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{source}: {exc}") from None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ManifestError(f"{source}: expected a JSON list of objects")
    for number, item in enumerate(items, start=1):
        _checked_fields(list(item), f"{source}, item {number}")
        yield _line(f"item {number}", item, source.parent)


def _folder_lines(root: Path) -> Iterator[Line]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or path.is_dir():
            continue
        where = str(relative)
        if len(relative.parts) != 2:
            # Reported as a failed line: a file out of place is never silently left behind.
            problem = "not in a dossier's subfolder (<root>/<file number, _ for />/<file>)"
            yield Line(where, "", "", "", path, problem=problem)
            continue
        type_code, date, title = _parse_name(path.stem)
        yield Line(where, relative.parts[0].replace("_", "/"), type_code, date, path, title)


def _parse_name(stem: str) -> tuple[str, str, str]:
    """`CLM_2019-03-01_Amended claims` → ("CLM", "2019-03-01", "Amended claims")."""
    type_code, _, rest = stem.partition("_")
    date, _, title = rest.partition("_")
    if not _DATE.match(date):
        date, title = "", rest
    return type_code, date, title


# --- Filing one line ------------------------------------------------------------------------


def import_line(line: Line, *, actor: Actor, default_ip_type: str = "") -> Result:
    """File one line (in its own transaction), or skip it when filed already; never raises for
    a problem of the line itself (it becomes a FAILED result with a reason)."""
    try:
        return _import(line, actor, default_ip_type)
    except LineError as exc:
        return Result(Outcome.FAILED, str(exc))
    except (actions.DomainError, InvalidFileNumber) as exc:
        return Result(Outcome.FAILED, str(exc))
    except EmptyContent:
        return Result(Outcome.FAILED, f"{line.path}: the file is empty")
    except UploadTooLarge as exc:
        return Result(Outcome.FAILED, f"{line.path}: {exc}")
    except OSError as exc:
        return Result(Outcome.FAILED, f"{line.path}: {exc.strerror or exc}")


def _import(line: Line, actor: Actor, default_ip_type: str) -> Result:
    if line.problem:
        raise LineError(line.problem)
    if not line.file_number:
        raise LineError("no file number")
    doc_type = DocumentType.objects.filter(code=line.type.upper(), active=True).first()
    if doc_type is None:
        raise LineError(f"unknown document type {line.type!r}")
    official_date = _date(line.date)
    if not line.path.is_file():
        raise LineError(f"{line.path}: no such file")
    dossier, created = _dossier(line, actor, line.ip_type or default_ip_type)
    sha256 = _sha256(line.path)
    if _filed_already(dossier, doc_type, sha256):
        return Result(Outcome.SKIPPED, "filed already", created)
    staged = blobstore.spool(_chunks(line.path), filename=line.path.name)
    # The digest read above: a file changed in between is refused, not filed half-checked.
    version = actions.attach_document(
        dossier,
        staged,
        doc_type=doc_type,
        actor=actor,
        official_date=official_date,
        channel=Channel.IMPORT,
        title=line.title,
        language=line.language,
        expected_sha256=sha256,
    )
    return Result(Outcome.FILED, str(version.document_id), created)


def _date(text: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise LineError(f"date {text!r} is not YYYY-MM-DD") from None


def _dossier(line: Line, actor: Actor, ip_type: str) -> tuple[Dossier, bool]:
    dossier = Dossier.objects.filter(key=normalise_key(line.file_number)).first()
    if dossier is not None:
        return dossier, False
    if not ip_type:
        raise LineError(
            f"dossier {line.file_number} does not exist; give its ip_type (a manifest field, "
            "or --ip-type) to create it"
        )
    if ip_type not in IpType.values:
        raise LineError(f"unknown ip_type {ip_type!r}; one of: {', '.join(IpType.values)}")
    return actions.upsert_dossier(line.file_number, {"ip_type": ip_type}, actor=actor)


def _filed_already(dossier: Dossier, doc_type: DocumentType, sha256: str) -> bool:
    return Version.objects.filter(
        document__dossier=dossier, document__doc_type=doc_type, blob_id=sha256
    ).exists()


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    for chunk in _chunks(path):
        digest.update(chunk)
    return digest.hexdigest()
