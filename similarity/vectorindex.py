"""The embedded vector index: a usearch HNSW graph of every chunk's embedding, in one file of the
data directory (`EDMS_SIMILARITY_DIR`).

The database (`similarity.models.Chunk`) is the record; the file is a cache of it. Chunk ids are
the keys and never come back (PostgreSQL's sequence; SQLite's AUTOINCREMENT), so a copy of the
index that holds every key up to its highest one catches up with the database by adding the
chunks above that key and removing the keys the database no longer has.

Writers (the `similarity` queue's tasks, the backfill) take a file lock, which orders them across
processes, and keep their copy in memory between tasks: under the lock each first catches up
(cheap: one query for what other processes committed since, and a count), then changes it with
its own chunks. The file is written (atomically: a rename) at most every
`EDMS_SIMILARITY_SAVE_INTERVAL` seconds by a writer whose copy is current, when it has been idle
that long, and when its worker process stops. A writer killed between its commit and a save
leaves the last saved file: readers keep using it (it lacks the newest chunks; a key the
database no longer has is dropped by the search, `similarity.dense`), the next writer's catch-up
takes the chunks over, and the sweep queues a catch-up-and-save when the file lags. A missing or
unreadable file is rebuilt from the database. Readers (web processes) open the file
memory-mapped and reopen it when it changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# pikepdf before usearch, always: usearch's compiled module, loaded first, breaks pikepdf's
# conversion of PDF numbers in the same process (a `TypeError` "Unable to convert function
# return value" reading an img2pdf page's MediaBox) and pillow-heif's HEIF encoder ("x265
# encoder could not be opened"), while the other order leaves both working. Every process
# that searches or writes the index (web, `similarity` worker) may also read PDFs with pikepdf
# (merged downloads, image conversion); tests/similarity/test_library_order.py keeps this true.
import pikepdf  # noqa: F401
from django.conf import settings
from usearch.index import Index

from similarity.embedder import DIMENSIONS
from similarity.models import Chunk

log = logging.getLogger(__name__)

FILE_NAME = "chunks.usearch"
_readers: dict[str, tuple[float, Index]] = {}
_readers_lock = threading.Lock()


def directory() -> Path:
    path = Path(settings.EDMS_SIMILARITY_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _new_index() -> Index:
    return Index(ndim=DIMENSIONS, metric="cos", dtype="f32", connectivity=16)


@dataclass
class _Copy:
    """A writer process's index, held between tasks."""

    index: Index
    top: int  # every chunk key up to this one was looked at (keys never come back)
    writes: int  # the shared write counter when this copy was last current
    dirty: bool = False  # changed since the file was written
    saved_at: float = float("-inf")  # time.monotonic() of this copy's last save: none yet
    changed_at: float = 0.0


# One copy per process (for the folder in use); the lock orders a task and the idle timer.
_copy: dict[str, _Copy] = {}
_copy_lock = threading.RLock()
_timer: threading.Timer | None = None
# A copy untouched this long after its last save is dropped (the worker's memory back); the
# next task loads the file again.
KEEP_IDLE_SECONDS = 120.0


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with open(folder / "write.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _read_writes(folder: Path) -> int:
    """The shared write counter: bumped by each writer when it starts, under the lock, so a copy
    whose counter is the file's was the last to change the database."""
    try:
        return int((folder / "writes").read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def _bump_writes(folder: Path) -> int:
    value = _read_writes(folder) + 1
    partial = folder / "writes.partial"
    partial.write_text(str(value))
    os.replace(partial, folder / "writes")
    return value


@contextlib.contextmanager
def writing() -> Iterator[Index]:
    """The index, current with the database, under the writers' lock, to change along with the
    database (the caller's transaction commits inside this block). Written to the file when due
    (`EDMS_SIMILARITY_SAVE_INTERVAL`)."""
    folder = directory()
    with _copy_lock, _locked(folder):
        copy = _current_copy(folder)
        # Bumped before the caller's commit: a writer killed after it leaves the counter ahead
        # of every held copy, so none saves its copy as if it were current.
        copy.writes = _bump_writes(folder)
        try:
            yield copy.index
        except BaseException:
            _copy.pop(str(folder), None)  # may disagree with a rolled-back database: reload
            raise
        copy.dirty, copy.changed_at = True, time.monotonic()
        _save_when_due(folder, copy)


def _current_copy(folder: Path) -> _Copy:
    """This process's copy, loaded (or rebuilt) if there is none, caught up with the database.
    Call under both locks."""
    copy = _copy.get(str(folder))
    if copy is None:
        _copy.clear()  # another folder's (tests switch folders)
        index = _load(folder / FILE_NAME)
        rebuilt = index is None
        if rebuilt:
            index = rebuild_from_database()
        copy = _Copy(index, _top_key(index), writes=-1, dirty=rebuilt)
        _copy[str(folder)] = copy
    if copy.writes != _read_writes(folder):
        copy.dirty |= catch_up(copy)
        copy.writes = _read_writes(folder)
    return copy


def _load(path: Path) -> Index | None:
    if not path.exists():
        return None
    try:
        index = Index.restore(str(path))
    except Exception:
        index = None
    if index is None or index.ndim != DIMENSIONS:
        log.warning("the similarity index %s is unreadable: rebuilding it", path)
        return None
    return index


def _top_key(index: Index) -> int:
    return int(np.max(index.keys)) if len(index) else 0


def catch_up(copy: _Copy, batch: int = 2000) -> bool:
    """Bring the copy in line with the database: add the chunks above its top key, remove the
    keys the database no longer has (and add any it lacks below its top: a copy saved by an
    older edms). Whether anything changed."""
    changed = False
    rows = Chunk.objects.filter(id__gt=copy.top).order_by("id").values_list("id", "vector")
    keys: list[int] = []
    vectors: list[bytes] = []
    for key, vector in rows.iterator(chunk_size=batch):
        copy.top = max(copy.top, key)
        if key in copy.index:  # this process's own chunk, added in its task
            continue
        keys.append(key)
        vectors.append(bytes(vector))
        if len(keys) >= batch:
            add(copy.index, keys, vectors)
            keys, vectors, changed = [], [], True
    if keys:
        add(copy.index, keys, vectors)
        changed = True
    if len(copy.index) != Chunk.objects.count():
        changed |= _reconcile(copy, batch)
    return changed


def _reconcile(copy: _Copy, batch: int) -> bool:
    """Compare every key with the database's (ids only): after deletions, or a rolled-back task."""
    known = np.fromiter(Chunk.objects.values_list("id", flat=True).iterator(), dtype=np.uint64)
    held = np.asarray(copy.index.keys, dtype=np.uint64)
    gone = np.setdiff1d(held, known)
    missing = np.setdiff1d(known, held)
    if len(gone):
        copy.index.remove(gone)
    for first in range(0, len(missing), batch):
        ids = [int(k) for k in missing[first : first + batch]]
        rows = Chunk.objects.filter(id__in=ids).order_by("id").values_list("id", "vector")
        found = list(rows)
        add(copy.index, [k for k, _ in found], [bytes(v) for _, v in found])
    if len(known):
        copy.top = max(copy.top, int(known.max()))
    return bool(len(gone) or len(missing))


def _save_when_due(folder: Path, copy: _Copy) -> None:
    interval = settings.EDMS_SIMILARITY_SAVE_INTERVAL
    if time.monotonic() - copy.saved_at >= interval:
        _save_copy(folder, copy)
    _schedule(folder, interval if copy.dirty else KEEP_IDLE_SECONDS)


def _save_copy(folder: Path, copy: _Copy) -> None:
    _save(copy.index, folder / FILE_NAME)
    copy.dirty, copy.saved_at = False, time.monotonic()


def _schedule(folder: Path, seconds: float) -> None:
    """Look again at this process's copy in `seconds` (save it if due, drop it if idle)."""
    global _timer
    if _timer is not None:
        _timer.cancel()
    _timer = threading.Timer(max(seconds, 0.5), _when_idle, args=(folder,))
    _timer.daemon = True
    _timer.start()


def _when_idle(folder: Path) -> None:
    """The timer: save a copy left unsaved (only if it is current: it needs no database, which
    this thread does not touch), drop one long idle."""
    try:
        with _copy_lock:
            copy = _copy.get(str(folder))
            if copy is None:
                return
            if copy.dirty:
                with _locked(folder):
                    if copy.writes == _read_writes(folder):
                        _save_copy(folder, copy)
                    # Otherwise another writer came after: its copy holds this one's chunks and
                    # it saves them; this one catches up at its next task.
                    else:
                        copy.dirty = False
                _schedule(folder, KEEP_IDLE_SECONDS)
            elif time.monotonic() - max(copy.saved_at, copy.changed_at) >= KEEP_IDLE_SECONDS:
                _copy.pop(str(folder), None)
            else:
                _schedule(folder, KEEP_IDLE_SECONDS)
    except Exception:
        log.exception("could not save the similarity index; the next writer will")


def forget_copy() -> None:
    """Drop this process's copy unsaved, as if the process had just started (tests)."""
    with _copy_lock:
        _copy.clear()


def flush() -> bool:
    """Write this process's copy to the file now if it has unsaved changes, caught up first
    (a worker process stopping, the backfill's end, the sweep's catch-up task); whether it
    wrote."""
    folder = Path(settings.EDMS_SIMILARITY_DIR)
    with _copy_lock:
        copy = _copy.get(str(folder))
        if copy is None or not copy.dirty:
            return False  # nothing held (a process that never wrote): the folder not touched
        with _locked(folder):
            if copy.writes != _read_writes(folder):
                catch_up(copy)
                copy.writes = _read_writes(folder)
            _save_copy(folder, copy)
        return True


def catch_up_file() -> int:
    """Bring the file in line with the database (the sweep's task when the file lags behind: a
    writer was killed before its save); how many chunks it changed."""
    folder = directory()
    with _copy_lock, _locked(folder):
        copy = _current_copy(folder)
        before = _file_shape(folder / FILE_NAME)
        _save_copy(folder, copy)
    return lag(before)[0] if before else len(copy.index)


def _save(index: Index, path: Path) -> None:
    partial = path.with_suffix(".partial")
    index.save(str(partial))
    os.replace(partial, path)


def _file_shape(path: Path) -> tuple[int, int] | None:
    """(vectors, highest key) of the saved file, memory-mapped; None if there is none."""
    try:
        index = Index.restore(str(path), view=True)
    except Exception:
        return None
    return (len(index), _top_key(index)) if index is not None else None


def lag(shape: tuple[int, int] | None = None) -> tuple[int, int]:
    """How far the file is behind the database: (chunks committed after its highest key, keys it
    still holds that the database removed, as far as counts tell)."""
    shape = shape or _file_shape(Path(settings.EDMS_SIMILARITY_DIR) / FILE_NAME) or (0, 0)
    vectors, top = shape
    newer = Chunk.objects.filter(id__gt=top).count()
    older = Chunk.objects.count() - newer
    return newer, max(vectors - older, 0)


def rebuild_from_database(batch: int = 2000) -> Index:
    """A new index holding every chunk the database has (not saved: the caller saves)."""
    index = _new_index()
    rows = Chunk.objects.order_by("id").values_list("id", "vector")
    keys: list[int] = []
    vectors: list[bytes] = []
    for key, vector in rows.iterator(chunk_size=batch):
        keys.append(key)
        vectors.append(bytes(vector))
        if len(keys) >= batch:
            add(index, keys, vectors)
            keys, vectors = [], []
    add(index, keys, vectors)
    return index


def add(index: Index, keys: list[int], vectors) -> None:
    """Add `vectors` (float32 rows, or their bytes) under `keys`."""
    if not keys:
        return
    if not isinstance(vectors, np.ndarray):
        vectors = np.frombuffer(b"".join(vectors), dtype=np.float32)
    matrix = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(keys), DIMENSIONS)
    index.add(np.asarray(keys, dtype=np.uint64), matrix)


def rebuild() -> int:
    """Write the file afresh from the database (`edms similarity rebuild`); its vector count."""
    with open(directory() / "write.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        index = rebuild_from_database()
        _save(index, directory() / FILE_NAME)
    return len(index)


def reader() -> Index:
    """The index for searching: this process's own writer copy while it is current (a process
    that writes reads what it wrote), else the file memory-mapped, reopened when a writer
    replaced it; built (and saved) from the database first when there is none."""
    path = directory() / FILE_NAME
    with _copy_lock:
        copy = _copy.get(str(path.parent))
        if copy is not None and copy.writes == _read_writes(path.parent):
            return copy.index
    with _readers_lock:
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        cached = _readers.get(str(path))
        if cached is not None and cached[0] == stamp:
            return cached[1]
        if stamp is None:
            rebuild()
            stamp = path.stat().st_mtime_ns
        # No count check here: a writer between its database commit and its file save would
        # make every reader rebuild. A chunk the file lacks is found after that save; a key the
        # database no longer has is dropped by the search (`similarity.dense`).
        index = Index.restore(str(path), view=True)
        if index is None:
            rebuild()
            stamp = path.stat().st_mtime_ns
            index = Index.restore(str(path), view=True)
        _readers[str(path)] = (stamp, index)
        return index
