"""The embedded engine: tantivy (Rust, BM25) in the edms processes, the index on local disk.

Layout under `path` (default `DATA_DIR/search`): one directory per generation and a `CURRENT`
file naming the active one, replaced atomically by `activate`. Tantivy allows one writer per
index directory (it holds a lock file while writing); edms routes every write through the single
consumer of the `index` queue, and `edms search reindex` writes only into a new generation.

How text is analysed and stored is `tantivy_schema`; the query language and the caller's
principals become tantivy queries in `tantivy_query`; highlighted snippets are `tantivy_snippets`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import tantivy
from django.conf import settings

from search.backends.base import (
    CJK,
    PUBLIC,
    Hit,
    IndexDocument,
    IndexOutdated,
    SearchBackend,
    SearchRequest,
    SearchResult,
    SearchUnavailable,
    reads_redacted,
)
from search.backends.tantivy_query import QueryBuilder, readable_matches
from search.backends.tantivy_schema import (
    ANALYZERS,
    ORIGINAL,
    REDACTED,
    REDACTED_MARK,
    SCHEMA,
    TextFields,
    date_number,
    midnight,
)
from search.backends.tantivy_snippets import Snippets

CURRENT = "CURRENT"


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
        self._opened_current: str | None = None  # the last generation `outdated` could open
        self._meta_seen: tuple | None = None

    # --- Generations ------------------------------------------------------------------------

    def _current_name(self) -> str | None:
        try:
            return (self.root / CURRENT).read_text().strip() or None
        except FileNotFoundError:
            return None

    def _open(self, generation: str) -> tantivy.Index:
        try:
            index = tantivy.Index(SCHEMA, path=str(self.root / generation), reuse=True)
        except ValueError as exc:
            if "schema does not match" not in str(exc):
                raise
            # Written by an earlier edms, before fields it now reads were added.
            raise IndexOutdated(
                f"the search index {generation} was built by an earlier edms with other fields: "
                "it is being rebuilt (or run `edms search reindex`)"
            ) from exc
        for name, analyzer in ANALYZERS.items():
            index.register_tokenizer(name, analyzer)
        return index

    def outdated(self) -> bool:
        generation = self._current_name()
        if generation is None or generation == self._opened_current:
            return False  # asked before every sync: a generation opened once is not reopened
        try:
            self._open(generation)
        except IndexOutdated:
            return True
        self._opened_current = generation
        return False

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
        fields: dict = self._text_fields(ORIGINAL, document, text)
        if document.public_text is not None:
            public_text = document.public_text[: self.max_text_chars]
            fields |= self._text_fields(REDACTED, document, public_text)
            fields["redacted"] = REDACTED_MARK
        fields |= {
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
            "analysis": list(document.analysis_languages),
            "version": document.version,
            "date_sort": date_number(document.official_date),
        }
        if document.official_date:
            fields["official_date"] = midnight(document.official_date)
        if document.public_from and PUBLIC in document.principals:
            fields["public_from"] = midnight(document.public_from)
        return tantivy.Document(**{k: v for k, v in fields.items() if v not in ("", [])})

    @staticmethod
    def _text_fields(names: TextFields, document: IndexDocument, text: str) -> dict:
        """`text` analysed into the fields `names` (the original's, or the redacted copy's)."""
        fields = {names.plain: text}
        for code in document.analysis_languages:
            fields[names.languages[code]] = f"{document.title}\n{text}"
        if CJK.search(text) or CJK.search(document.title):
            fields[names.cjk] = f"{document.title}\n{text}"
        return fields

    # --- Reading ----------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResult:
        if self._current_name() is None:
            # Nothing indexed yet (a new installation): only the indexer creates the index.
            return SearchResult(count=0, hits=[], facets={name: [] for name in request.facets})
        index = self._active(create=False)
        searcher = index.searcher()
        clauses = [(tantivy.Occur.Must, readable_matches(request))]
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
        snippets = None
        if request.highlight:
            # Each from the text its reader reads, with that text's query: the public's snippet
            # of a document it reads only redacted never sees the original's text at all.
            snippets = {
                names.plain: Snippets(searcher, QueryBuilder(names).build(request.query), names)
                for names in (ORIGINAL, REDACTED)
            }
        results = [
            self._hit(searcher, score, address, request, snippets) for score, address in hits
        ]
        return SearchResult(
            count=found.count,
            hits=results,
            facets=_facets(searcher, query, request.facets),
        )

    def _hit(self, searcher, score, address, request: SearchRequest, snippets: dict | None) -> Hit:
        stored = searcher.doc(address)
        official = stored.get_first("official_date")
        redacted = stored.get_first("redacted") == REDACTED_MARK
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
            "redacted": redacted,
        }
        hit = Hit(id=stored.get_first("id"), score=float(score), fields=fields)
        if snippets is not None:
            principals = stored.get_all("principals")
            text = (
                REDACTED if reads_redacted(principals, redacted, request.principals) else ORIGINAL
            )
            # The page too is counted in that text: the copy's form feeds for the public's hit.
            snippet = snippets[text.plain].best(
                stored.get_first(text.plain) or "", stored.get_all("analysis")
            )
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


def _facets(searcher, query, names) -> dict[str, list[tuple[str, int]]]:
    if not names:
        return {}
    aggregations = {name: {"terms": {"field": name, "size": 100}} for name in names}
    found = searcher.aggregate(query, aggregations)
    return {
        name: [(bucket["key"], bucket["doc_count"]) for bucket in found[name]["buckets"]]
        for name in names
    }
