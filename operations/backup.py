"""Back up an edms instance to a folder, and restore one from it.

What a backup holds is what cannot be made again: the database (every dossier, version, audit
row and processing fact) and the blobs its rows name. The search index is not in it: it is
rebuilt from the database after a restore (`edms search reindex`), as after any index loss.

Order makes it consistent without stopping edms. The database is dumped first, in one snapshot
(`pg_dump`, or SQLite's online backup); the blobs are copied after it. Stored content is never
overwritten, so every blob a row of the dump names is already stored, and copying it later
copies the same bytes; blobs stored after the dump are copied too and are merely unused.

Crash safety: every file is written under a temporary name and renamed into place, and
`manifest.json` is written last, so a folder without a manifest is an unfinished backup that
restore refuses. Blobs are content-addressed, so running a backup again into the same folder
copies only blobs it lacks (an incremental backup). Every blob is checked against its digest on
the way out and again on the way in.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

from dossier import blobstore
from dossier.models import Blob, Dossier

FORMAT = 1
MANIFEST = "manifest.json"
BLOBS = "blobs"
DATABASE_FILES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}

Progress = Callable[[int, int], None]


class BackupError(Exception):
    """The backup or the restore cannot go on; the message says why and what to do."""


@dataclass
class Manifest:
    format: int
    created_at: str
    database: str  # "postgresql" or "sqlite"
    database_file: str
    blobs: int
    blob_bytes: int
    missing_blobs: list[str]  # rows whose content was not in the store at backup time


def database_kind() -> str:
    vendor = connection.vendor
    if vendor not in DATABASE_FILES:
        raise BackupError(f"backing up a {vendor} database is not supported")
    return vendor


# --- Backup ----------------------------------------------------------------------------------


def back_up(destination: Path, progress: Progress | None = None) -> Manifest:
    """Write a backup of this instance into `destination` (made if missing; blobs already
    there from an earlier backup are kept and not copied again)."""
    destination.mkdir(parents=True, exist_ok=True)
    (destination / MANIFEST).unlink(missing_ok=True)  # unfinished until written again
    kind = database_kind()
    database_file = destination / DATABASE_FILES[kind]
    with _written_atomically(database_file) as partial:
        _dump_postgresql(partial) if kind == "postgresql" else _dump_sqlite(partial)
    count, size, missing = _copy_blobs_out(destination / BLOBS, progress)
    manifest = Manifest(
        format=FORMAT,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        database=kind,
        database_file=database_file.name,
        blobs=count,
        blob_bytes=size,
        missing_blobs=missing,
    )
    with _written_atomically(destination / MANIFEST) as partial:
        partial.write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    return manifest


def _dump_postgresql(target: Path) -> None:
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-acl", f"--file={target}"])


def _dump_sqlite(target: Path) -> None:
    """SQLite's online backup: a consistent copy while edms goes on writing."""
    source = sqlite3.connect(settings.DATABASES["default"]["NAME"])
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()


def _copy_blobs_out(folder: Path, progress: Progress | None) -> tuple[int, int, list[str]]:
    blobs = Blob.objects.filter(expunged_at__isnull=True).order_by("sha256")
    total = blobs.count()
    count = size = 0
    missing = []
    for index, blob in enumerate(blobs.iterator(), start=1):
        target = folder / blobstore.storage_key(blob.sha256)
        if not (target.exists() and target.stat().st_size == blob.size):
            try:
                with _written_atomically(target) as partial, partial.open("wb") as out:
                    for chunk in blobstore.read_verified(blob.sha256, blob.size):
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
            except blobstore.BlobMissing:
                missing.append(blob.sha256)  # reported, and by `edms fixity` too
                continue
        count += 1
        size += blob.size
        if progress:
            progress(index, total)
    return count, size, missing


# --- Restore ---------------------------------------------------------------------------------


def read_manifest(source: Path) -> Manifest:
    try:
        data = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(
            f"{source} holds no {MANIFEST}: not a backup, or one that did not finish"
        ) from exc
    if data.get("format") != FORMAT:
        raise BackupError(f"backup format {data.get('format')!r} is not {FORMAT}")
    return Manifest(**data)


def restore(source: Path, *, progress: Progress | None = None, reindex: bool = True) -> Manifest:
    """Restore the backup in `source` into this instance, whose database must hold no
    dossier yet, then bring its schema up to date and rebuild the search index."""
    manifest = read_manifest(source)
    kind = database_kind()
    if manifest.database != kind:
        raise BackupError(
            f"the backup holds a {manifest.database} database and this instance uses {kind}: "
            "restore into the same kind (then move data with dumpdata/loaddata if needed)"
        )
    if _holds_dossiers():
        raise BackupError("this instance already holds dossiers: restore into an empty one")
    database_file = source / manifest.database_file
    if kind == "postgresql":
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-acl",
                "--single-transaction",
                f"--dbname={_database_name()}",
                str(database_file),
            ]
        )
    else:
        _restore_sqlite(database_file)
    call_command("migrate", interactive=False, verbosity=0)  # a backup of an older edms
    _copy_blobs_in(source / BLOBS, progress)
    if reindex:
        call_command("search", "reset")
        call_command("search", "reindex", "--restart")
    return manifest


def _holds_dossiers() -> bool:
    if Dossier._meta.db_table not in connection.introspection.table_names():
        return False
    return Dossier.objects.exists()


def _restore_sqlite(database_file: Path) -> None:
    """Put the backup's file in place of this instance's (renamed in, never half-copied)."""
    target = Path(settings.DATABASES["default"]["NAME"])
    connections.close_all()
    with _written_atomically(target) as partial:
        shutil.copyfile(database_file, partial)
    for journal in ("-wal", "-shm"):  # of the database just replaced
        Path(f"{target}{journal}").unlink(missing_ok=True)


def _copy_blobs_in(folder: Path, progress: Progress | None) -> None:
    """Store every blob of the backup, checked against its name (its SHA-256) on the way."""
    files = sorted(_blob_files(folder))
    for index, path in enumerate(files, start=1):
        with path.open("rb") as stream:
            staged = blobstore.spool(
                iter(lambda: stream.read(blobstore.CHUNK_SIZE), b""),
                filename=path.name,
                max_size=path.stat().st_size,
            )
        try:
            if staged.sha256 != path.name:
                raise BackupError(f"{path} is damaged: its content hashes to {staged.sha256}")
            blobstore.promote(staged)
        finally:
            staged.discard()
        if progress:
            progress(index, len(files))


def _blob_files(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        for path in folder.rglob("*"):
            if path.is_file() and len(path.name) == 64 and not path.name.startswith("."):
                yield path


# --- Helpers ---------------------------------------------------------------------------------


@contextmanager
def _written_atomically(target: Path) -> Iterator[Path]:
    """A temporary path beside `target`, renamed onto it only when the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _database_name() -> str:
    return settings.DATABASES["default"]["NAME"]


def _run(command: list[str]) -> None:
    """Run a PostgreSQL client program against this instance's database."""
    database = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        {
            name: str(database[key])
            for name, key in (
                ("PGHOST", "HOST"),
                ("PGPORT", "PORT"),
                ("PGUSER", "USER"),
                ("PGPASSWORD", "PASSWORD"),
                ("PGDATABASE", "NAME"),
            )
            if database.get(key)
        }
    )
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client)")
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")
