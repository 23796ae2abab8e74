"""Where the chunks' vectors are searched: the store `EDMS_SIMILARITY_VECTOR_STORE` names (alias
of the Django way: `BACKEND` + `OPTIONS`, unknown options refused by the class).

- `embedded.Store`: the usearch file of `similarity.vectorindex` (the default; no server).
- `opensearch.Store`: the OpenSearch cluster's k-NN plugin (Lucene HNSW), where the readers of
  each chunk's document are indexed beside its vector, so permissions apply inside the query.

The database (`similarity.models.Chunk`) is the record either way; a store is a search structure
over it that `rebuild` refills.
"""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import AbstractContextManager
from typing import Protocol

import numpy as np
from django.conf import settings
from django.utils.module_loading import import_string

from dossier.models import Document


class StoreUnavailable(OSError):
    """The store could not be reached or refused a write (an OSError: the embedding task retries
    it with backoff)."""


class Writer(Protocol):
    def remove(self, keys: list[int]) -> None:
        """Forget these chunks."""

    def add(self, document: Document, keys: list[int], vectors: np.ndarray) -> None:
        """Add `document`'s chunks `keys` with their vectors (float32 rows, in the same order)."""


class VectorStore(Protocol):
    # Whether the store keeps each chunk's readers (and so must hear when they change).
    indexes_readers: bool

    def writing(self) -> AbstractContextManager[Writer]:
        """A writer whose changes are applied when the block ends without error (after the
        caller's database transaction, when that is opened inside it)."""

    def search(
        self,
        query_vectors: np.ndarray,
        count: int,
        *,
        principals: frozenset[str] | None,
        today: dt.date,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(keys, cosine similarities), one row of `count` per query vector, nearest first; rows
        padded with key -1 and similarity -2. With `principals`, a store that can filters by them
        inside the search (the caller still checks the result against the database)."""

    def count(self) -> int:
        """How many chunks the store holds."""

    def rebuild(self) -> int:
        """Refill the store from the database; how many chunks it then holds."""

    def refresh_readers(self, document_ids: list) -> None:
        """Bring the readers kept with these documents' chunks in line with the database."""


EMBEDDED = "similarity.vectorstores.embedded.Store"


def uses_index_file() -> bool:
    """The configured store is the embedded file (`similarity.vectorindex`), which the workers
    save and the sweep catches up; a cluster's store keeps no file."""
    return settings.EDMS_SIMILARITY_VECTOR_STORE["BACKEND"] == EMBEDDED


_stores: dict[str, VectorStore] = {}
_stores_lock = threading.Lock()


def configured() -> VectorStore:
    """The store the settings name (one instance per configuration, shared by threads)."""
    config = settings.EDMS_SIMILARITY_VECTOR_STORE
    key = repr(sorted(config.items()))
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = import_string(config["BACKEND"])(**config.get("OPTIONS", {}))
            _stores[key] = store
        return store
