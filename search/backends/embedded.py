"""The embedded engine: tantivy (Rust, BM25) in the edms processes, the index on local disk.

Layout under `path` (default `DATA_DIR/search`): one directory per generation and a `CURRENT`
file naming the active one, replaced atomically by `activate`. Tantivy allows one writer per
index directory (it holds a lock file while writing); edms routes every write through the single
consumer of the `index` queue, and `edms search reindex` writes only into a new generation.

Text is analysed several ways, each in its own field: with the stemmer of each language the
document is in (`text_fr`, ...), word by word without stemming (`text`, which also keeps the
text for snippets), and character by character for CJK scripts (`text_cjk`), so that Chinese or
Japanese words are found inside unsegmented runs. Every process that opens the index registers
these analyzers (`_open`), else tantivy could not read the fields.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import tantivy
from django.conf import settings

from search import querylang as q
from search.backends.base import (
    CJK,
    PUBLIC,
    SNIPPET_CHARS,
    STEMMED_LANGUAGES,
    Hit,
    IndexDocument,
    SearchBackend,
    SearchRequest,
    SearchResult,
    SearchUnavailable,
    principal_filter_parts,
)

CURRENT = "CURRENT"
KEYWORD_FIELDS = ("type", "direction", "language", "ip_type", "status", "year", "state")
LANGUAGE_FIELDS = {code: f"text_{code}" for code in STEMMED_LANGUAGES}
PLAIN_FIELDS = ("text", "meta")  # analysed word by word, unstemmed
FIELD_ANALYZERS = {"text": "plain", "meta": "plain", "title": "plain", "applicant": "plain"}
FIELD_ANALYZERS |= {field: code for code, field in LANGUAGE_FIELDS.items()}
MAX_TOKEN_BYTES = 80
# Tantivy keeps dates as nanoseconds since 1970 in 64 bits: clamp to what fits.
EARLIEST, LATEST = dt.date(1700, 1, 1), dt.date(2262, 1, 1)


def _analyzers() -> dict[str, tantivy.TextAnalyzer]:
    def words() -> tantivy.TextAnalyzerBuilder:
        return (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(MAX_TOKEN_BYTES))
            .filter(tantivy.Filter.lowercase())
        )

    analyzers = {"plain": words().build()}
    for code, language in STEMMED_LANGUAGES.items():
        analyzers[code] = words().filter(tantivy.Filter.stemmer(language)).build()
    # One token per CJK character (positions kept): a word is found as a phrase of characters.
    analyzers["cjk"] = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(CJK.pattern)).build()
    return analyzers


ANALYZERS = _analyzers()


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", fast=True)
    builder.add_text_field("id_stamp", tokenizer_name="raw", fast=True)
    builder.add_text_field("dossier", stored=True, tokenizer_name="raw", fast=True)
    for name in KEYWORD_FIELDS:
        builder.add_text_field(name, stored=True, tokenizer_name="raw", fast=True)
    builder.add_text_field("principals", tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name="plain")
    builder.add_text_field("dossier_title", stored=True, tokenizer_name="plain")
    builder.add_text_field("applicant", tokenizer_name="plain")
    builder.add_text_field("meta", tokenizer_name="plain")
    builder.add_text_field("text", stored=True, tokenizer_name="plain")
    for code, field in LANGUAGE_FIELDS.items():
        builder.add_text_field(field, tokenizer_name=code)
    builder.add_text_field("text_cjk", tokenizer_name="cjk")
    builder.add_text_field("analysis", stored=True, tokenizer_name="raw")
    builder.add_date_field("official_date", stored=True, indexed=True, fast=True)
    builder.add_integer_field("date_sort", indexed=False, fast=True)
    builder.add_date_field("public_from", indexed=True, fast=True)
    builder.add_integer_field("version", stored=True)
    return builder.build()


SCHEMA = _schema()


def _midnight(day: dt.date) -> dt.datetime:
    day = min(max(day, EARLIEST), LATEST)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


class Backend(SearchBackend):
    name = "embedded"

    def __init__(
        self,
        *,
        path: str | None = None,
        writer_heap_mb: int = 64,
        max_text_chars: int = 1_000_000,
    ):
        self.root = Path(path) if path else Path(settings.DATA_DIR) / "search"
        self.writer_heap = writer_heap_mb * 1024 * 1024
        self.max_text_chars = max_text_chars
        self._lock = threading.Lock()
        self._open_generation: str | None = None
        self._index: tantivy.Index | None = None
        self._meta_seen: tuple | None = None

    # --- Generations ------------------------------------------------------------------------

    def _current_name(self) -> str | None:
        try:
            return (self.root / CURRENT).read_text().strip() or None
        except FileNotFoundError:
            return None

    def _open(self, generation: str) -> tantivy.Index:
        index = tantivy.Index(SCHEMA, path=str(self.root / generation), reuse=True)
        for name, analyzer in ANALYZERS.items():
            index.register_tokenizer(name, analyzer)
        return index

    def _active(self, *, create: bool) -> tantivy.Index:
        """The active generation's index, reopened when another process switched it."""
        generation = self._current_name()
        if generation is None:
            if not create:
                raise SearchUnavailable("the search index has not been created yet")
            with self._lock:
                generation = self._current_name() or self.reset()
        with self._lock:
            if generation != self._open_generation or self._index is None:
                self._index = self._open(generation)
                self._open_generation = generation
                self._meta_seen = None
            index = self._index
            # Commits by another process (the index worker) become visible here on reload.
            meta = self.root / generation / "meta.json"
            try:
                stat = meta.stat()
                seen = (stat.st_mtime_ns, stat.st_size)
            except FileNotFoundError:
                seen = None
            if seen != self._meta_seen:
                index.reload()
                self._meta_seen = seen
        return index

    def _index_for(self, generation: str | None) -> tantivy.Index:
        if generation is None or generation == self._current_name():
            return self._active(create=True)
        return self._open(generation)

    def create_generation(self) -> str:
        name = dt.datetime.now(dt.UTC).strftime("gen-%Y%m%d%H%M%S-") + uuid.uuid4().hex[:6]
        (self.root / name).mkdir(parents=True)
        self._open(name)  # writes the empty index's meta.json
        return name

    def activate(self, generation: str) -> None:
        pointer = self.root / CURRENT
        staging = self.root / f".{CURRENT}.{uuid.uuid4().hex}"
        staging.write_text(generation)
        os.replace(staging, pointer)  # atomic: readers see the old or the new name
        for entry in self.root.iterdir():
            if entry.is_dir() and entry.name.startswith("gen-") and entry.name < generation:
                shutil.rmtree(entry, ignore_errors=True)

    def reset(self) -> str:
        generation = self.create_generation()
        self.activate(generation)
        return generation

    # --- Writing ----------------------------------------------------------------------------

    def bulk(
        self,
        upserts: Iterable[IndexDocument] = (),
        deletes: Iterable[str] = (),
        *,
        generation: str | None = None,
    ) -> None:
        index = self._index_for(generation)
        try:
            writer = index.writer(heap_size=self.writer_heap, num_threads=1)
        except ValueError as exc:  # another process holds the writer lock
            raise SearchUnavailable(f"the index is being written elsewhere: {exc}") from exc
        try:
            for document_id in deletes:
                writer.delete_documents_by_term("id", document_id)
            for document in upserts:
                writer.delete_documents_by_term("id", document.id)
                writer.add_document(self._to_tantivy(document))
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        if generation is None or generation == self._open_generation:
            index.reload()

    def _to_tantivy(self, document: IndexDocument) -> tantivy.Document:
        text = document.text[: self.max_text_chars]
        fields: dict = {
            "id": document.id,
            "id_stamp": f"{document.id}|{document.stamp}",
            "dossier": document.dossier,
            "type": document.type,
            "direction": document.direction,
            "language": document.language,
            "ip_type": document.ip_type,
            "status": document.status,
            "year": document.year,
            "state": document.state,
            "principals": list(document.principals),
            "title": document.title,
            "dossier_title": document.dossier_title,
            "applicant": " ; ".join(document.applicants),
            "meta": document.meta,
            "text": text,
            "analysis": list(document.analysis_languages),
            "version": document.version,
            "date_sort": _date_number(document.official_date),
        }
        for code in document.analysis_languages:
            fields[LANGUAGE_FIELDS[code]] = f"{document.title}\n{text}"
        if CJK.search(text) or CJK.search(document.title):
            fields["text_cjk"] = f"{document.title}\n{text}"
        if document.official_date:
            fields["official_date"] = _midnight(document.official_date)
        if document.public_from and PUBLIC in document.principals:
            fields["public_from"] = _midnight(document.public_from)
        return tantivy.Document(**{k: v for k, v in fields.items() if v not in ("", [])})

    # --- Reading ----------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResult:
        if self._current_name() is None:
            # Nothing indexed yet (a new installation): only the indexer creates the index.
            return SearchResult(count=0, hits=[], facets={name: [] for name in request.facets})
        index = self._active(create=False)
        searcher = index.searcher()
        text_query = QueryBuilder().build(request.query)
        clauses = [(tantivy.Occur.Must, text_query), (tantivy.Occur.Must, _readable(request))]
        clauses += [(tantivy.Occur.Must, QueryBuilder().build(f)) for f in request.filters]
        query = tantivy.Query.boolean_query(clauses)
        by_date = request.sort == "date"
        found = searcher.search(
            query,
            limit=max(request.limit, 1),
            offset=request.offset,
            count=True,
            order_by_field="date_sort" if by_date else None,
            order=tantivy.Order.Desc,
        )
        hits = [] if request.limit <= 0 else found.hits
        snippets = Snippets(searcher, text_query) if request.highlight else None
        results = [self._hit(searcher, score, address, snippets) for score, address in hits]
        return SearchResult(
            count=found.count,
            hits=results,
            facets=_facets(searcher, query, request.facets),
        )

    def _hit(self, searcher, score, address, snippets: Snippets | None) -> Hit:
        stored = searcher.doc(address)
        official = stored.get_first("official_date")
        fields = {
            "version": stored.get_first("version"),
            "dossier": stored.get_first("dossier"),
            "dossier_title": stored.get_first("dossier_title") or "",
            "title": stored.get_first("title") or "",
            "type": stored.get_first("type"),
            "direction": stored.get_first("direction"),
            "language": stored.get_first("language") or "",
            "ip_type": stored.get_first("ip_type"),
            "status": stored.get_first("status"),
            "state": stored.get_first("state"),
            "official_date": official.date() if official else None,
        }
        hit = Hit(id=stored.get_first("id"), score=float(score), fields=fields)
        if snippets is not None:
            snippet = snippets.best(stored.get_first("text") or "", stored.get_all("analysis"))
            if snippet:
                hit.snippets, hit.pages = [snippet[0]], [snippet[1]]
        return hit

    def stamps(self, *, generation: str | None = None) -> Iterator[tuple[str, str]]:
        index = self._index_for(generation)
        index.reload()
        searcher = index.searcher()
        size = max(searcher.num_docs, 1)
        found = searcher.aggregate(
            tantivy.Query.all_query(), {"all": {"terms": {"field": "id_stamp", "size": size}}}
        )
        for bucket in found["all"]["buckets"]:
            document_id, _, stamp = bucket["key"].partition("|")
            yield document_id, stamp

    def count(self) -> int:
        if self._current_name() is None:
            return 0
        return self._active(create=False).searcher().num_docs

    def status(self) -> dict:
        generation = self._current_name()
        if generation is None:
            return {"backend": self.name, "generation": None, "documents": 0, "size_bytes": 0}
        searcher = self._active(create=False).searcher()
        size = sum(f.stat().st_size for f in (self.root / generation).rglob("*") if f.is_file())
        return {
            "backend": self.name,
            "generation": generation,
            "documents": searcher.num_docs,
            "segments": searcher.num_segments,
            "size_bytes": size,
        }


def _date_number(day: dt.date | None) -> int:
    return day.year * 10000 + day.month * 100 + day.day if day else 0


def _readable(request: SearchRequest) -> tantivy.Query:
    """Only what one of the caller's principals may read (`base.principal_filter_parts`)."""
    outright, public = principal_filter_parts(request.principals)
    options = []
    if outright:
        options.append(tantivy.Query.term_set_query(SCHEMA, "principals", outright))
    if public:
        published = tantivy.Query.range_query(
            SCHEMA,
            "public_from",
            tantivy.FieldType.Date,
            lower_bound=None,
            upper_bound=_midnight(request.today),
        )
        is_public = tantivy.Query.term_query(SCHEMA, "principals", PUBLIC)
        options.append(
            tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, is_public), (tantivy.Occur.Must, published)]
            )
        )
    if not options:
        return tantivy.Query.empty_query()
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, o) for o in options])


def _facets(searcher, query, names) -> dict[str, list[tuple[str, int]]]:
    if not names:
        return {}
    aggregations = {name: {"terms": {"field": name, "size": 100}} for name in names}
    found = searcher.aggregate(query, aggregations)
    return {
        name: [(bucket["key"], bucket["doc_count"]) for bucket in found[name]["buckets"]]
        for name in names
    }


class QueryBuilder:
    """Translates the query language's syntax tree into a tantivy query."""

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
        fields = [field] if field else [*LANGUAGE_FIELDS.values(), *PLAIN_FIELDS]
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
            return [tantivy.Query.term_query(SCHEMA, "text_cjk", characters[0])]
        return [tantivy.Query.phrase_query(SCHEMA, "text_cjk", characters)]

    def _prefix(self, node: q.Prefix) -> tantivy.Query:
        fields = [node.field] if node.field else list(PLAIN_FIELDS)
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
        fields = [node.field] if node.field else list(PLAIN_FIELDS)
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
            lower_bound=_midnight(node.start) if node.start else None,
            upper_bound=_midnight(node.end) if node.end else None,
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


class Snippets:
    """The best highlighted fragment of a hit's text, from the field that matched it."""

    def __init__(self, searcher, query: tantivy.Query):
        self.searcher = searcher
        self.query = query
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
        fields = [LANGUAGE_FIELDS[c] for c in languages if c in LANGUAGE_FIELDS]
        fields += ["text"] + (["text_cjk"] if CJK.search(text) else [])
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
