"""The embedded engine's queries: the query language's syntax tree, and the caller's principals,
translated into tantivy queries (what `querydsl` is for Elasticsearch and OpenSearch)."""

from __future__ import annotations

import re

import tantivy

from search import querylang as q
from search.backends.base import PUBLIC, SearchRequest, principal_filter_parts
from search.backends.tantivy_schema import (
    ANALYZERS,
    FIELD_ANALYZERS,
    ORIGINAL,
    REDACTED,
    REDACTED_MARK,
    SCHEMA,
    TextFields,
    midnight,
)

Must, MustNot, Should = tantivy.Occur.Must, tantivy.Occur.MustNot, tantivy.Occur.Should


def readable_matches(request: SearchRequest) -> tantivy.Query:
    """The documents that match the request's query *as the caller reads them*, among those one
    of the caller's principals may read (`base.principal_filter_parts`): by the original's text
    where the caller reads the original, by the redacted copy's text (`REDACTED`) where the
    caller reads the document only as the public and the public reads it only redacted."""
    outright, public = principal_filter_parts(request.principals)
    readers_of_original = []
    if outright:
        readers_of_original.append(tantivy.Query.term_set_query(SCHEMA, "principals", outright))
    if public:
        readers_of_original.append(_all([(Must, _public_now(request)), (MustNot, _redacted())]))
    options = []
    if readers_of_original:
        original = QueryBuilder(ORIGINAL).build(request.query)
        options.append(_all([(Must, original), (Must, _any(readers_of_original))]))
    if public:
        copy = QueryBuilder(REDACTED).build(request.query)
        options.append(_all([(Must, copy), (Must, _public_now(request)), (Must, _redacted())]))
    return _any(options) if options else tantivy.Query.empty_query()


def _public_now(request: SearchRequest) -> tantivy.Query:
    published = tantivy.Query.range_query(
        SCHEMA,
        "public_from",
        tantivy.FieldType.Date,
        lower_bound=None,
        upper_bound=midnight(request.today),
    )
    is_public = tantivy.Query.term_query(SCHEMA, "principals", PUBLIC)
    return _all([(Must, is_public), (Must, published)])


def _redacted() -> tantivy.Query:
    return tantivy.Query.term_query(SCHEMA, "redacted", REDACTED_MARK)


def _all(clauses: list) -> tantivy.Query:
    return tantivy.Query.boolean_query(clauses)


def _any(options: list[tantivy.Query]) -> tantivy.Query:
    return tantivy.Query.boolean_query([(Should, option) for option in options])


class QueryBuilder:
    """Translates the query language's syntax tree into a tantivy query; words without a field
    are looked for in `text` (the original's fields, or the redacted copy's) and the metadata."""

    def __init__(self, text: TextFields = ORIGINAL):
        self.text = text

    def build(self, node: q.Node) -> tantivy.Query:
        method = getattr(self, f"_{type(node).__name__.lower()}")
        return method(node)

    def _matchall(self, node: q.MatchAll) -> tantivy.Query:
        return tantivy.Query.all_query()

    def _term(self, node: q.Term) -> tantivy.Query:
        return self._words(node.text, node.field, phrase=False)

    def _phrase(self, node: q.Phrase) -> tantivy.Query:
        return self._words(node.text, node.field, phrase=True)

    def _words(self, text: str, field: str | None, *, phrase: bool) -> tantivy.Query:
        fields = [field] if field else [*self.text.languages.values(), *self.text.unstemmed]
        options = []
        for name in fields:
            tokens = ANALYZERS[FIELD_ANALYZERS[name]].analyze(text)
            if len(tokens) == 1:
                options.append(tantivy.Query.term_query(SCHEMA, name, tokens[0]))
            elif tokens:
                options.append(tantivy.Query.phrase_query(SCHEMA, name, tokens))
        if field is None:
            options += self._cjk(text)
        if not options:
            return tantivy.Query.empty_query()
        return tantivy.Query.disjunction_max_query(options, tie_breaker=0.1)

    def _cjk(self, text: str) -> list[tantivy.Query]:
        characters = ANALYZERS["cjk"].analyze(text)
        if not characters:
            return []
        if len(characters) == 1:
            return [tantivy.Query.term_query(SCHEMA, self.text.cjk, characters[0])]
        return [tantivy.Query.phrase_query(SCHEMA, self.text.cjk, characters)]

    def _prefix(self, node: q.Prefix) -> tantivy.Query:
        fields = [node.field] if node.field else list(self.text.unstemmed)
        options = []
        for name in fields:
            tokens = ANALYZERS["plain"].analyze(node.text)
            if tokens:
                options.append(tantivy.Query.phrase_prefix_query(SCHEMA, name, tokens))
        if node.field is None:
            options += self._cjk(node.text)
        if not options:
            return tantivy.Query.empty_query()
        return tantivy.Query.disjunction_max_query(options)

    def _fuzzy(self, node: q.Fuzzy) -> tantivy.Query:
        tokens = ANALYZERS["plain"].analyze(node.text)
        if len(tokens) != 1:
            return self._words(node.text, node.field, phrase=True)
        fields = [node.field] if node.field else list(self.text.unstemmed)
        options = [
            tantivy.Query.fuzzy_term_query(SCHEMA, name, tokens[0], distance=node.distance)
            for name in fields
        ]
        return tantivy.Query.disjunction_max_query(options)

    def _keyword(self, node: q.Keyword) -> tantivy.Query:
        return tantivy.Query.term_query(SCHEMA, node.field, node.value)

    def _keywordset(self, node: q.KeywordSet) -> tantivy.Query:
        if not node.values:
            return tantivy.Query.empty_query()
        return tantivy.Query.term_set_query(SCHEMA, node.field, sorted(node.values))

    def _wildcard(self, node: q.Wildcard) -> tantivy.Query:
        pattern = ".*".join(re.escape(part) for part in node.pattern.split("*"))
        return tantivy.Query.regex_query(SCHEMA, node.field, pattern)

    def _daterange(self, node: q.DateRange) -> tantivy.Query:
        return tantivy.Query.range_query(
            SCHEMA,
            node.field,
            tantivy.FieldType.Date,
            lower_bound=midnight(node.start) if node.start else None,
            upper_bound=midnight(node.end) if node.end else None,
        )

    def _and(self, node: q.And) -> tantivy.Query:
        clauses = []
        for child in node.children:
            if isinstance(child, q.Not):
                clauses.append((tantivy.Occur.MustNot, self.build(child.child)))
            else:
                clauses.append((tantivy.Occur.Must, self.build(child)))
        if all(occur == tantivy.Occur.MustNot for occur, _ in clauses):
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(clauses)

    def _or(self, node: q.Or) -> tantivy.Query:
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, self.build(child)) for child in node.children]
        )

    def _not(self, node: q.Not) -> tantivy.Query:
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, tantivy.Query.all_query()),
                (tantivy.Occur.MustNot, self.build(node.child)),
            ]
        )
