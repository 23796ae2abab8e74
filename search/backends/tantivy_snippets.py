"""The embedded engine's highlighted snippets: the best fragment of a hit's text, and its page."""

from __future__ import annotations

import html

import tantivy

from search.backends.base import CJK, SNIPPET_CHARS
from search.backends.tantivy_schema import SCHEMA, TextFields


class Snippets:
    """The best highlighted fragment of a hit's text, from the field that matched it: `query`
    built for the fields `names` (the original's text, or the redacted copy's), and the text
    given to `best` the one stored in `names.plain`."""

    def __init__(self, searcher, query: tantivy.Query, names: TextFields):
        self.searcher = searcher
        self.query = query
        self.names = names
        self.generators: dict[str, tantivy.SnippetGenerator] = {}

    def _generator(self, field: str) -> tantivy.SnippetGenerator:
        generator = self.generators.get(field)
        if generator is None:
            generator = tantivy.SnippetGenerator.create(self.searcher, self.query, SCHEMA, field)
            generator.set_max_num_chars(SNIPPET_CHARS)
            self.generators[field] = generator
        return generator

    def best(self, text: str, languages: list[str]) -> tuple[str, int | None] | None:
        if not text:
            return None
        names = self.names
        fields = [names.languages[c] for c in languages if c in names.languages]
        fields += [names.plain] + ([names.cjk] if CJK.search(text) else [])
        for field in fields:
            snippet = self._generator(field).snippet_from_doc(tantivy.Document(**{field: text}))
            marks = snippet.highlighted()
            if marks:
                return _marked(snippet.fragment(), marks), _page_of(text, snippet, marks)
        return None


def _marked(fragment: str, marks) -> str:
    """The fragment HTML-escaped, with each highlight (byte ranges) wrapped in <mark>."""
    raw = fragment.encode("utf-8")
    parts, at = [], 0
    for mark in sorted(marks, key=lambda m: m.start):
        if mark.start < at:
            continue
        parts.append(html.escape(raw[at : mark.start].decode("utf-8", "replace")))
        parts.append(
            f"<mark>{html.escape(raw[mark.start : mark.end].decode('utf-8', 'replace'))}</mark>"
        )
        at = mark.end
    parts.append(html.escape(raw[at:].decode("utf-8", "replace")))
    return "… " + "".join(parts).strip() + " …"


def _page_of(text: str, snippet, marks) -> int | None:
    """The page of the first highlight (byte offsets); extractors end pages with form feeds."""
    if "\f" not in text:
        return None
    start = snippet.fragment_range().start + min(mark.start for mark in marks)
    return text.encode("utf-8")[:start].count(b"\f") + 1
