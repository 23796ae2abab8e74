"""The stored marks' vectors as one matrix, searched by a matrix product (`marks_features`):
brute force is exact, and 50,000 marks x 2 views x 256 float32 dimensions are 100 MB, one
pass over memory per query (`python -m tests.bench.marks` measures it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from similarity.marks_features import DIMENSIONS, VIEWS


@dataclass(frozen=True)
class Hit:
    key: object
    score: float  # best cosine similarity over the query's and the mark's views (-1..1)


class MarkIndex:
    """Marks' vectors (`VIEWS` each) under keys; `search` answers the most similar keys."""

    def __init__(self, keys: Sequence[object], vectors: np.ndarray):
        if vectors.shape[1:] != (VIEWS, DIMENSIONS):
            raise ValueError(f"vectors must be n x {VIEWS} x {DIMENSIONS}: {vectors.shape}")
        self.keys = list(keys)
        self._matrix = np.ascontiguousarray(vectors.reshape(-1, DIMENSIONS), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.keys)

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Each mark's best similarity to the query's views (length `len(self)`)."""
        if not self.keys:
            return np.zeros(0, dtype=np.float32)
        # Query views x (marks x views): the long dimension last, measured a third faster.
        products = query @ self._matrix.T
        return products.max(axis=0).reshape(-1, VIEWS).max(axis=1)

    def search(self, query: np.ndarray, k: int = 10, *, allowed=None) -> list[Hit]:
        """The `k` most similar marks, best first; `allowed` (a boolean mask over the keys)
        keeps only those the caller may see, before the limit."""
        return self.best(self.scores(query), k, allowed=allowed)

    def best(self, scores: np.ndarray, k: int, *, allowed=None) -> list[Hit]:
        """The `k` best of `scores` (from `scores`), best first, among the `allowed` ones."""
        if allowed is not None:
            scores = np.where(allowed, scores, -np.inf)
        k = min(k, int(np.isfinite(scores).sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [Hit(self.keys[i], float(scores[i])) for i in top]
