"""A word-level diff of two extracted texts, page by page: what the compare view shows (amended
claims against the previous claims, one version against another, one document against another).

Pages are the extracted text's form feeds (`\\f`, one per page boundary, as extraction keeps
them); a text without any is one page. Page N of one side is compared with page N of the other,
and a page only one side has is shown whole, as deleted or inserted.

Words are the tokens (runs of non-space characters); line breaks are kept as tokens of their
own, so a claim that starts on a new line still does. `difflib.SequenceMatcher` is quadratic in
the worst case, so the work is capped: a page with more words than `MAX_PAGE_WORDS` on either
side is not compared (the view says so), and pages past `MAX_PAGES` are left out.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

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
    """Page `number` of both sides: the left column (kept and deleted words) and the right
    (kept and inserted words). `too_large`: not compared, over `MAX_PAGE_WORDS`."""

    number: int
    left: list[Run] = field(default_factory=list)
    right: list[Run] = field(default_factory=list)
    deleted: int = 0  # words
    inserted: int = 0
    too_large: bool = False

    @property
    def changed(self) -> bool:
        return self.too_large or bool(self.deleted or self.inserted)


@dataclass
class TextDiff:
    pages: list[PageDiff]
    pages_left_out: int  # past `MAX_PAGES`

    @property
    def changed_pages(self) -> list[int]:
        return [page.number for page in self.pages if page.changed]


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
    """Compare `old` (the left side) with `new` (the right), page by page."""
    old_pages, new_pages = split_pages(old), split_pages(new)
    count = max(len(old_pages), len(new_pages))
    pages = []
    for index in range(min(count, MAX_PAGES)):
        left = old_pages[index] if index < len(old_pages) else ""
        right = new_pages[index] if index < len(new_pages) else ""
        pages.append(diff_page(index + 1, tokens(left), tokens(right)))
    return TextDiff(pages=pages, pages_left_out=max(0, count - MAX_PAGES))


def diff_page(number: int, old: list[str], new: list[str]) -> PageDiff:
    """Page `number`'s word-level diff of the `old` and `new` tokens."""
    page = PageDiff(number=number)
    if len(old) > MAX_PAGE_WORDS or len(new) > MAX_PAGE_WORDS:
        page.too_large = True
        return page
    # No "junk" heuristic: in a claim the most frequent words ("the", "a", "of") matter too.
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for operation, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if operation == "equal":
            _append(page.left, SAME, old[old_start:old_end])
            _append(page.right, SAME, new[new_start:new_end])
            continue
        if old_end > old_start:
            _append(page.left, DELETED, old[old_start:old_end])
            page.deleted += _words(old[old_start:old_end])
        if new_end > new_start:
            _append(page.right, INSERTED, new[new_start:new_end])
            page.inserted += _words(new[new_start:new_end])
    return page


def _words(run: list[str]) -> int:
    return sum(1 for token in run if token != "\n")


def _append(runs: list[Run], kind: str, run: list[str]) -> None:
    """Add `run` to a column, joined as the text reads: a space between words, none around a
    line break; a space also separates it from the run before."""
    spaced = bool(runs) and not runs[-1].text.endswith("\n") and run[0] != "\n"
    runs.append(Run(kind, _join(run), spaced))


def _join(run: list[str]) -> str:
    text = ""
    for token in run:
        if token == "\n" or not text or text.endswith("\n"):
            text += token
        else:
            text += " " + token
    return text
