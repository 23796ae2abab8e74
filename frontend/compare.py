"""A word-level diff of two extracted texts, page by page: what the compare view shows (amended
claims against the previous claims, one version against another, one document against another).

Pages are the extracted text's form feeds (`\\f`, one per page boundary, as extraction keeps
them); a text without any is one page. Pages are paired by what they say
(`frontend.page_alignment`), not by number: a page inserted into an amended claims set is one
new page, and the pages after it are compared with their old selves. A page the other side has
no match for is shown whole, as inserted ("page 3 is new") or deleted ("old page 5 was
removed").

Words are the tokens (runs of non-space characters); line breaks are kept as tokens of their
own, so a claim that starts on a new line still does. `difflib.SequenceMatcher` is quadratic in
the worst case, so the work is capped: a page with more words than `MAX_PAGE_WORDS` on either
side is not compared (the view says so), and pages past `MAX_PAGES` are left out.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field

from frontend.page_alignment import align, signature

PAGE_BREAK = "\f"
MAX_PAGES = 400
MAX_PAGE_WORDS = 6000
# A word, or a line break (blank lines fold into one: they carry no meaning in a diff).
_TOKEN = re.compile(r"\n\s*|[^\s]+")

SAME, DELETED, INSERTED = "same", "del", "ins"


@dataclass(frozen=True)
class Run:
    """Consecutive tokens of one kind on one side: kept (`same`), deleted or inserted."""

    kind: str
    text: str
    spaced: bool = False  # a space before it, outside any <ins>/<del> mark


@dataclass
class PageDiff:
    """One row of the comparison: old page `old_number` (the left column: kept and deleted
    words) against new page `new_number` (the right: kept and inserted words). A number is
    None when that side has no such page: the page is new, or was removed. `moved`: paired out
    of order. `too_large`: not compared, over `MAX_PAGE_WORDS`."""

    old_number: int | None
    new_number: int | None
    left: list[Run] = field(default_factory=list)
    right: list[Run] = field(default_factory=list)
    deleted: int = 0  # words
    inserted: int = 0
    too_large: bool = False
    moved: bool = False

    @property
    def number(self) -> int:
        """The page's number as the reader finds it: in the new text, or the old if removed."""
        return self.new_number if self.new_number is not None else self.old_number

    @property
    def anchor(self) -> str:
        """The page's fragment id: a removed page is named by its old number."""
        return (
            f"page-{self.new_number}"
            if self.new_number is not None
            else f"old-page-{self.old_number}"
        )

    @property
    def is_new(self) -> bool:
        return self.old_number is None

    @property
    def removed(self) -> bool:
        return self.new_number is None

    @property
    def renumbered(self) -> bool:
        return not (self.is_new or self.removed) and self.old_number != self.new_number

    @property
    def changed(self) -> bool:
        return (
            self.too_large
            or self.moved
            or self.is_new
            or self.removed
            or bool(self.deleted or self.inserted)
        )


@dataclass
class TextDiff:
    pages: list[PageDiff]
    pages_left_out: int  # past `MAX_PAGES`

    @property
    def changes(self) -> list[PageDiff]:
        return [page for page in self.pages if page.changed]

    @property
    def changed_pages(self) -> list[int]:
        return [page.number for page in self.changes]

    @property
    def pairing(self) -> list[list[int | None]]:
        """`[old, new]` page numbers of each row, for the visual page compare."""
        return [[page.old_number, page.new_number] for page in self.pages]

    @property
    def pairing_json(self) -> str:
        return json.dumps(self.pairing, separators=(",", ":"))


def split_pages(text: str) -> list[str]:
    """The text's pages: split at form feeds, one page when there is none. A trailing form feed
    (after the last page) makes no empty page."""
    pages = text.split(PAGE_BREAK)
    if len(pages) > 1 and not pages[-1].strip():
        pages.pop()
    return pages


def tokens(page: str) -> list[str]:
    """The page's words and line breaks, in order."""
    return ["\n" if token[0] == "\n" else token for token in _TOKEN.findall(page.strip())]


def diff_texts(old: str, new: str) -> TextDiff:
    """Compare `old` (the left side) with `new` (the right): pair their pages, then diff the
    words of each pair."""
    old_pages, new_pages = split_pages(old), split_pages(new)
    left_out = max(0, max(len(old_pages), len(new_pages)) - MAX_PAGES)
    old_tokens = [tokens(page) for page in old_pages[:MAX_PAGES]]
    new_tokens = [tokens(page) for page in new_pages[:MAX_PAGES]]
    pairs = align([signature(t) for t in old_tokens], [signature(t) for t in new_tokens])
    pages = []
    for pair in pairs:
        left = old_tokens[pair.old - 1] if pair.old is not None else []
        right = new_tokens[pair.new - 1] if pair.new is not None else []
        page = diff_page(left, right, old_number=pair.old, new_number=pair.new)
        page.moved = pair.moved
        pages.append(page)
    return TextDiff(pages=pages, pages_left_out=left_out)


def diff_page(
    old: list[str], new: list[str], *, old_number: int | None, new_number: int | None
) -> PageDiff:
    """The word-level diff of one old page's tokens against one new page's."""
    page = PageDiff(old_number=old_number, new_number=new_number)
    if len(old) > MAX_PAGE_WORDS or len(new) > MAX_PAGE_WORDS:
        page.too_large = True
        return page
    if old == new:  # most pages of a new version: no need to diff them
        if old:
            _append(page.left, SAME, old)
            _append(page.right, SAME, new)
        return page
    # The common start and end are kept as they are: SequenceMatcher then only works on the
    # part that changed (a word or two in most amended pages), not on the whole page.
    head = _common_prefix(old, new)
    tail = _common_prefix(old[head:][::-1], new[head:][::-1])
    if head:
        _append(page.left, SAME, old[:head])
        _append(page.right, SAME, new[:head])
    old_middle, new_middle = old[head : len(old) - tail], new[head : len(new) - tail]
    # No "junk" heuristic: in a claim the most frequent words ("the", "a", "of") matter too.
    matcher = difflib.SequenceMatcher(a=old_middle, b=new_middle, autojunk=False)
    for operation, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if operation == "equal":
            _append(page.left, SAME, old_middle[old_start:old_end])
            _append(page.right, SAME, new_middle[new_start:new_end])
            continue
        if old_end > old_start:
            _append(page.left, DELETED, old_middle[old_start:old_end])
            page.deleted += _words(old_middle[old_start:old_end])
        if new_end > new_start:
            _append(page.right, INSERTED, new_middle[new_start:new_end])
            page.inserted += _words(new_middle[new_start:new_end])
    if tail:
        _append(page.left, SAME, old[len(old) - tail :])
        _append(page.right, SAME, new[len(new) - tail :])
    return page


def _common_prefix(first: list[str], second: list[str]) -> int:
    """How many tokens the two lists start with in common."""
    count = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        count += 1
    return count


def _words(run: list[str]) -> int:
    return sum(1 for token in run if token != "\n")


def _append(runs: list[Run], kind: str, run: list[str]) -> None:
    """Add `run` to a column, joined as the text reads: a space between words, none around a
    line break; a space also separates it from the run before."""
    spaced = bool(runs) and not runs[-1].text.endswith("\n") and run[0] != "\n"
    runs.append(Run(kind, _join(run), spaced))


def _join(run: list[str]) -> str:
    # Tokens hold no white space, so spaces next to a line break are the join's own: drop them.
    return " ".join(run).replace(" \n", "\n").replace("\n ", "\n")
