"""Cutting a text into overlapping passages of a few sentences' length, so that a long document
is compared passage by passage (a claim set against the one page of a description that says the
same) rather than through a single average that drowns every passage."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A "word" is a run of at most 10 characters: scripts written without spaces (Japanese, Chinese)
# then still come in windows of bounded length, and a 30-letter German compound merely counts as
# three.
WORD = re.compile(r"\S{1,10}")


@dataclass(frozen=True)
class Passage:
    ordinal: int
    start: int  # character offsets in the text
    end: int
    text: str


def passages(text: str, *, words: int, overlap: int, limit: int) -> list[Passage]:
    """Windows of `words` words, each sharing `overlap` words with the next; at most `limit`,
    taken evenly over the whole text when there are more (a 300-page description still counts
    from its first page to its last)."""
    spans = [m.span() for m in WORD.finditer(text)]
    if not spans:
        return []
    stride = max(words - overlap, 1)
    starts = list(range(0, max(len(spans) - overlap, 1), stride))
    if len(starts) > limit:
        step = len(starts) / limit
        starts = [starts[int(i * step)] for i in range(limit)]
    out = []
    for ordinal, first in enumerate(starts):
        last = min(first + words, len(spans)) - 1
        start, end = spans[first][0], spans[last][1]
        out.append(Passage(ordinal, start, end, text[start:end]))
    return out
