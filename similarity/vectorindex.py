"""The embedded vector index: a usearch HNSW graph of every chunk's embedding, in one file of the
data directory (`EDMS_SIMILARITY_DIR`).

The database (`similarity.models.Chunk`) is the record; the file is a cache of it. A file that is
missing, unreadable or holds a different number of vectors than the database is rebuilt from the
database before use, so a crash between the two writes costs a rebuild, never a wrong answer.
Writers (the `similarity` queue's tasks, the backfill) take a file lock and replace the file
atomically; readers (web processes) open it memory-mapped and reopen it when it changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Max
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


@contextlib.contextmanager
def writing() -> Iterator[Index]:
    """The index, loaded for change under the writers' lock; saved atomically on exit."""
    folder = directory()
    with open(folder / "write.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        index = _load_or_rebuild(folder / FILE_NAME)
        yield index
        _save(index, folder / FILE_NAME)


def _save(index: Index, path: Path) -> None:
    partial = path.with_suffix(".partial")
    index.save(str(partial))
    os.replace(partial, path)


def _load_or_rebuild(path: Path) -> Index:
    # The same count and the same highest key: a crash between a writer's commit and its save
    # changes at least one of them (keys only grow).
    expected = (Chunk.objects.count(), Chunk.objects.aggregate(top=Max("id"))["top"] or 0)
    if path.exists():
        try:
            index = Index.restore(str(path))
            if index is not None and index.ndim == DIMENSIONS and _shape(index) == expected:
                return index
        except Exception:
            log.warning("the similarity index %s is unreadable: rebuilding it", path)
    return rebuild_from_database()


def _shape(index: Index) -> tuple[int, int]:
    return len(index), (int(np.max(index.keys)) if len(index) else 0)


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
    """The index for searching: the file memory-mapped, reopened when a writer replaced it; built
    (and saved) from the database first when there is none."""
    path = directory() / FILE_NAME
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
