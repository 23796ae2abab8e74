"""The embedded vector store: the usearch file of `similarity.vectorindex`. It cannot filter by
readers inside the graph search: `similarity.dense` widens the search until enough of the nearest
chunks are readable."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import numpy as np

from dossier.models import Document
from similarity import vectorindex


class _Writer:
    def __init__(self, index):
        self.index = index

    def remove(self, keys: list[int]) -> None:
        for key in keys:
            self.index.remove(key)

    def add(self, document: Document, keys: list[int], vectors: np.ndarray) -> None:
        vectorindex.add(self.index, keys, vectors)


class Store:
    indexes_readers = False

    @contextlib.contextmanager
    def writing(self) -> Iterator[_Writer]:
        with vectorindex.writing() as index:
            yield _Writer(index)

    def search(
        self,
        query_vectors: np.ndarray,
        count: int,
        *,
        principals: frozenset[str] | None,
        today: dt.date,
    ) -> tuple[np.ndarray, np.ndarray]:
        matches = vectorindex.reader().search(query_vectors, count)
        # usearch pads a short row with the largest key and distance: -1 and a similarity far
        # below any real one.
        keys = np.atleast_2d(matches.keys).astype(np.int64)
        similarities = 1.0 - np.atleast_2d(matches.distances).astype(np.float64)
        similarities[keys < 0] = -2.0
        return keys, similarities

    def count(self) -> int:
        return len(vectorindex.reader())

    def rebuild(self) -> int:
        return vectorindex.rebuild()

    def refresh_readers(self, document_ids: list) -> None:
        pass  # no readers kept: `similarity.dense` asks the database
