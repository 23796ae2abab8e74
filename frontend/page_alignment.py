"""Which page of one text is which page of the other: the compare view pairs pages by what they
say, not by their number, so one page inserted into an amended claims set shows as one new page
rather than as every later page deleted and inserted again.

Each page gets a cheap signature: its lower-cased word pairs, hashed into the bits of one
integer (`SIGNATURE_BITS`), so the similarity of two pages is two `&`/`|` and two
`bit_count`s. A dynamic programme over the page-by-page similarities (like a text diff's
longest common subsequence, but weighted) then finds the in-order pairing with the most
similarity; pages it leaves unpaired are new or removed, except that a leftover old page much
like a leftover new page is paired with it as moved (pages reordered), and as many old pages as
new ones between the same two pairs are paired in order (a page rewritten in place: its word
diff says no less than showing it all deleted and all inserted, and two one-page letters
compared are still compared). A 352-page book against
itself costs about 124,000 similarities: a few tenths of a second at most in pure Python.

Two pages are paired only if at least `MIN_SIMILARITY` of their word pairs are shared: two
pages of one book share about a tenth of them (one in a hundred a fifth), while a page with a
word or two changed keeps almost all of its own. Pages without text (an image-only scan) are
all alike, and so pair in order, by number.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

SIGNATURE_BITS = 8192
MIN_SIMILARITY = 0.3
# A page paired out of order must be clearly the same page: more than in-order pairing needs.
MIN_MOVED_SIMILARITY = 0.5


@dataclass(frozen=True)
class Pair:
    """One row of the alignment: `old` and `new` are 1-based page numbers, None when that side
    has no such page (the page is new, or was removed). `moved`: paired out of order."""

    old: int | None
    new: int | None
    moved: bool = False


def signature(words: Sequence[str]) -> int:
    """The page's adjacent word pairs (its one word, if it has only one), lower-cased, as bits
    of one integer. Line breaks are left out: a reflowed line is the same text."""
    hashes = [zlib.crc32(word.lower().encode()) for word in words if word != "\n"]
    if len(hashes) == 1:
        positions = {hashes[0] % SIGNATURE_BITS}
    else:  # a pair's bit mixes both words' hashes (deterministic, unlike `hash()`)
        positions = {(a * 1000003 ^ b) % SIGNATURE_BITS for a, b in itertools.pairwise(hashes)}
    flags = bytearray(SIGNATURE_BITS // 8)
    for position in positions:
        flags[position >> 3] |= 1 << (position & 7)
    return int.from_bytes(flags, "little")


def similarity(first: int, second: int) -> float:
    """The share of features two signatures have in common (Jaccard); two empty pages are alike."""
    union = (first | second).bit_count()
    return (first & second).bit_count() / union if union else 1.0


def align(old: Sequence[int], new: Sequence[int]) -> list[Pair]:
    """Pair the `old` pages' signatures with the `new` ones'. Rows come in reading order: the
    new pages in their order, a removed old page where it stood among them, a moved page at its
    new place."""
    rows = _in_order(old, new)
    return _pair_replaced(_pair_moved(rows, old, new))


def _in_order(old: Sequence[int], new: Sequence[int]) -> list[Pair]:
    """The in-order pairing with the greatest total similarity (pairs under `MIN_SIMILARITY`
    not allowed): `best[i][j]` is the best for the first i old and first j new pages."""
    rows, columns = len(old), len(new)
    # |a or b| = |a| + |b| - |a and b|: one `&` and one `bit_count` per pair of pages.
    old_counts = [page.bit_count() for page in old]
    new_counts = [page.bit_count() for page in new]
    best = [[0.0] * (columns + 1) for _ in range(rows + 1)]
    # 0: pair old i with new j; 1: old i removed; 2: new j inserted.
    step = [bytearray(columns + 1) for _ in range(rows + 1)]
    for j in range(1, columns + 1):
        step[0][j] = 2
    for i in range(1, rows + 1):
        here, above, moves = best[i], best[i - 1], step[i]
        page, count = old[i - 1], old_counts[i - 1]
        moves[0] = 1
        for j in range(1, columns + 1):
            value, move = above[j], 1
            if here[j - 1] > value:
                value, move = here[j - 1], 2
            common = (page & new[j - 1]).bit_count()
            union = count + new_counts[j - 1] - common
            shared = common / union if union else 1.0
            # Strictly better only: of equal pairings, the one pairing pages by number first
            # (pages without text then pair 1-1, 2-2, and a page past the end is new).
            if shared >= MIN_SIMILARITY and above[j - 1] + shared > value:
                value, move = above[j - 1] + shared, 0
            here[j], moves[j] = value, move
    pairs: list[Pair] = []
    i, j = rows, columns
    while i or j:
        move = step[i][j]
        if move == 0:
            pairs.append(Pair(i, j))
            i, j = i - 1, j - 1
        elif move == 1:
            pairs.append(Pair(i, None))
            i -= 1
        else:
            pairs.append(Pair(None, j))
            j -= 1
    pairs.reverse()
    return pairs


def _pair_moved(rows: list[Pair], old: Sequence[int], new: Sequence[int]) -> list[Pair]:
    """Pair leftover old pages with leftover new pages they closely resemble (most alike
    first): such a page was moved. It then shows once, at its new place."""
    removed = [row.old for row in rows if row.new is None]
    inserted = [row.new for row in rows if row.old is None]
    candidates = sorted(
        (
            (shared, o, n)
            for o in removed
            for n in inserted
            if (shared := similarity(old[o - 1], new[n - 1])) >= MIN_MOVED_SIMILARITY
        ),
        key=lambda candidate: -candidate[0],
    )
    moved: dict[int, int] = {}  # new page -> old page
    taken: set[int] = set()
    for _shared, o, n in candidates:
        if o not in taken and n not in moved:
            moved[n] = o
            taken.add(o)
    if not moved:
        return rows
    result = []
    for row in rows:
        if row.new is None and row.old in taken:
            continue
        if row.old is None and row.new in moved:
            row = Pair(moved[row.new], row.new, moved=True)
        result.append(row)
    return result


def _pair_replaced(rows: list[Pair]) -> list[Pair]:
    """Between two pairs (or an end), n old pages unpaired and n new ones: pair them in order."""
    result: list[Pair] = []
    gap: list[Pair] = []
    for row in [*rows, None]:
        if row is not None and (row.old is None or row.new is None):
            gap.append(row)
            continue
        removed = [page.old for page in gap if page.new is None]
        inserted = [page.new for page in gap if page.old is None]
        if removed and len(removed) == len(inserted):
            gap = [Pair(o, n) for o, n in zip(removed, inserted, strict=True)]
        result.extend(gap)
        gap = []
        if row is not None:
            result.append(row)
    return result
