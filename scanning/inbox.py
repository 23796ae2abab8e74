"""The watched folder: scanners drop batch files on a share, edms picks each up exactly once.

A file is taken once it is complete: either a `<name>.done` marker sits next to it (scanners
that can write one), or its size and modification time did not change between two looks at
least `EDMS_SCAN_INBOX_SETTLE` seconds apart. Taking it means storing it and committing its
batch; only then is it moved to `done/` (never deleted). If edms stops in between, the next look
finds the file again, recognises the batch already made from it (same name and content) and
just moves it, so a file is neither lost nor submitted twice.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from dossier import blobstore
from dossier.audit import Actor
from scanning import splitting
from scanning.models import ScanBatch

log = logging.getLogger(__name__)

SUFFIXES = (".pdf", ".tif", ".tiff")
MARKER = ".done"
DONE_DIR = "done"
FAILED_DIR = "failed"
ORIGIN = "folder"
# A batch still `queued` after this long lost its task (broker down at submission): send again.


@dataclass
class Inbox:
    """One watched folder and what was seen of its files at the previous look."""

    path: Path
    settle_seconds: float = 5.0
    station: str = ""
    seen: dict[str, tuple[int, int, float]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls) -> Inbox:
        return cls(
            Path(settings.EDMS_SCAN_INBOX),
            settings.EDMS_SCAN_INBOX_SETTLE,
            settings.EDMS_SCAN_INBOX_STATION,
        )

    def look(self) -> list[ScanBatch]:
        """One look at the folder: submit every complete file; returns the batches made."""
        for sub in (DONE_DIR, FAILED_DIR):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        batches = []
        for candidate in self._candidates():
            if self._complete(candidate):
                batch = self._take(candidate)
                if batch is not None:
                    batches.append(batch)
        return batches

    def _candidates(self) -> list[Path]:
        files = []
        for entry in sorted(self.path.iterdir()):
            hidden = entry.name.startswith((".", "~"))
            if entry.is_file() and not hidden and entry.suffix.lower() in SUFFIXES:
                files.append(entry)
        names = {f.name for f in files}
        self.seen = {name: value for name, value in self.seen.items() if name in names}
        return files

    def _complete(self, path: Path) -> bool:
        if path.with_name(path.name + MARKER).exists():
            return True
        stat = path.stat()
        now = time.monotonic()
        previous = self.seen.get(path.name)
        current = (stat.st_size, stat.st_mtime_ns)
        if previous is None or previous[:2] != current:
            self.seen[path.name] = (*current, now)
            return False
        return stat.st_size > 0 and now - previous[2] >= self.settle_seconds

    def _take(self, path: Path) -> ScanBatch | None:
        staged = blobstore.spool(_read(path), filename=path.name)
        existing = ScanBatch.objects.filter(
            origin=ORIGIN, source_id=staged.sha256, source_filename=path.name
        ).first()
        if existing is not None:  # taken before edms stopped; only the move was missing
            staged.discard()
            self._move(path, DONE_DIR)
            return None
        try:
            batch = splitting.submit_batch(
                staged,
                actor=Actor(label=f"scan inbox {self.path.name}"),
                station=self.station or self.path.name,
                origin=ORIGIN,
            )
        except splitting.NotAScan as exc:
            log.warning("scan inbox: %s is not a batch: %s", path, exc)
            target = self._move(path, FAILED_DIR)
            target.with_name(target.name + ".reason.txt").write_text(f"{exc}\n")
            return None
        self._move(path, DONE_DIR)
        log.info("scan inbox: %s submitted as batch %s", path.name, batch.id)
        return batch

    def _move(self, path: Path, sub: str) -> Path:
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
        target = self.path / sub / f"{stamp}-{path.name}"
        os.replace(path, target)
        marker = path.with_name(path.name + MARKER)
        if marker.exists():
            marker.unlink()
        self.seen.pop(path.name, None)
        return target


def _read(path: Path, size: int = 1 << 20):
    with open(path, "rb") as handle:
        while chunk := handle.read(size):
            yield chunk


def watch(inbox: Inbox, *, interval: float, once: bool = False) -> None:
    while True:
        try:
            inbox.look()
        except Exception:  # a share that went away: log, keep watching
            log.exception("scan inbox %s: look failed", inbox.path)
        if once:
            return
        time.sleep(interval)
