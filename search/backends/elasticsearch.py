"""The Elasticsearch engine, for offices that outgrow one machine (Elasticsearch 8 and 9).

Queries, mappings and the index template are built with the client's own DSL
(`elasticsearch.dsl`), never as hand-written dicts. Indexes are versioned — `<prefix>-<generation>`
— behind the alias `<prefix>`, which searches and the indexer use; a full reindex fills a new
index and `activate` moves the alias in one atomic `update_aliases` call, so searches never see
a half-built index. The template (`<prefix>-*`) carries the analyzers and mappings, so every new
generation gets them.

Text is one `text` field with a sub-field per language analyzer (`text.fr`, ... and `text.cjk`,
bigrams for Chinese, Japanese and Korean): highlighting reads the one stored `text` whichever
sub-field matched. Writes go through `helpers.streaming_bulk`, from the single `index` queue
consumer like the embedded engine's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator

from elasticsearch import Elasticsearch, NotFoundError, helpers
from elasticsearch import exceptions as es_exceptions
from elasticsearch.dsl import (
    Date,
    Index,
    Integer,
    Keyword,
    Mapping,
    Q,
    Search,
    Text,
    analyzer,
)
from elasticsearch.dsl.query import Query

from search import querylang as q
from search.backends.base import (
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

KEYWORDS = ("id", "stamp", "dossier", "type", "direction", "language", "ip_type", "status")
KEYWORDS += ("year", "state", "principals", "analysis")
WORDS = analyzer("edms_words", tokenizer="standard", filter=["lowercase"])
LANGUAGE_SUBFIELDS = {code: f"text.{code}" for code in STEMMED_LANGUAGES}
TEXT_FIELDS = ["text", *LANGUAGE_SUBFIELDS.values(), "text.cjk", "meta", "title"]
PLAIN_FIELDS = ["text", "meta"]
MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


def mapping() -> Mapping:
    """The documents' mapping (also what the index template carries)."""
    m = Mapping()
    for name in KEYWORDS:
        m.field(name, Keyword())
    subfields = {code: Text(analyzer=language) for code, language in STEMMED_LANGUAGES.items()}
    subfields["cjk"] = Text(analyzer="cjk")
    m.field("text", Text(analyzer=WORDS, fields=subfields))
    m.field("title", Text(analyzer=WORDS, fields={"raw": Keyword()}))
    m.field("dossier_title", Text(analyzer=WORDS))
    m.field("applicant", Text(analyzer=WORDS))
    m.field("meta", Text(analyzer=WORDS))
    m.field("official_date", Date(format="strict_date"))
    m.field("public_from", Date(format="strict_date"))
    m.field("version", Integer())
    return m


def index_definition(name: str, *, shards: int = 1, replicas: int = 1) -> Index:
    index = Index(name)
    index.settings(number_of_shards=shards, number_of_replicas=replicas)
    index.analyzer(WORDS)
    index.mapping(mapping())
    return index


# --- Queries ------------------------------------------------------------------------------------


class QueryBuilder:
    """Translates the query language's syntax tree into DSL queries."""

    def build(self, node: q.Node) -> Query:
        return getattr(self, f"_{type(node).__name__.lower()}")(node)

    def _matchall(self, node: q.MatchAll) -> Query:
        return Q("match_all")

    def _term(self, node: q.Term) -> Query:
        if node.field:
            return Q("match", **{node.field: {"query": node.text, "operator": "and"}})
        return Q(
            "multi_match",
            query=node.text,
            fields=TEXT_FIELDS,
            type="best_fields",
            operator="and",
            tie_breaker=0.1,
        )

    def _phrase(self, node: q.Phrase) -> Query:
        if node.field:
            return Q("match_phrase", **{node.field: node.text})
        return Q("multi_match", query=node.text, fields=TEXT_FIELDS, type="phrase")

    def _prefix(self, node: q.Prefix) -> Query:
        fields = [node.field] if node.field else PLAIN_FIELDS
        value = node.text.lower()
        return Q("bool", should=[Q("prefix", **{f: {"value": value}}) for f in fields])

    def _fuzzy(self, node: q.Fuzzy) -> Query:
        fields = [node.field] if node.field else PLAIN_FIELDS
        return Q("multi_match", query=node.text, fields=fields, fuzziness=node.distance)

    def _keyword(self, node: q.Keyword) -> Query:
        return Q("term", **{node.field: node.value})

    def _keywordset(self, node: q.KeywordSet) -> Query:
        if not node.values:
            return Q("bool", must_not=[Q("match_all")])
        return Q("terms", **{node.field: sorted(node.values)})

    def _wildcard(self, node: q.Wildcard) -> Query:
        # `?` is literal in our language; escape ES's other wildcard and its escape character.
        pattern = node.pattern.replace("\\", "\\\\").replace("?", "\\?")
        return Q("wildcard", **{node.field: {"value": pattern}})

    def _daterange(self, node: q.DateRange) -> Query:
        bounds = {}
        if node.start:
            bounds["gte"] = node.start.isoformat()
        if node.end:
            bounds["lte"] = node.end.isoformat()
        return Q("range", **{node.field: bounds})

    def _and(self, node: q.And) -> Query:
        must = [self.build(c) for c in node.children if not isinstance(c, q.Not)]
        must_not = [self.build(c.child) for c in node.children if isinstance(c, q.Not)]
        return Q("bool", must=must or [Q("match_all")], must_not=must_not)

    def _or(self, node: q.Or) -> Query:
        return Q("bool", should=[self.build(c) for c in node.children], minimum_should_match=1)

    def _not(self, node: q.Not) -> Query:
        return Q("bool", must=[Q("match_all")], must_not=[self.build(node.child)])


def readable(principals: frozenset[str], today: dt.date) -> Query:
    """Only what one of the caller's principals may read (`base.principal_filter_parts`)."""
    outright, public = principal_filter_parts(principals)
    options = []
    if outright:
        options.append(Q("terms", principals=outright))
    if public:
        options.append(
            Q(
                "bool",
                filter=[
                    Q("term", principals=PUBLIC),
                    Q("range", public_from={"lte": today.isoformat()}),
                ],
            )
        )
    if not options:
        return Q("bool", must_not=[Q("match_all")])
    return Q("bool", should=options, minimum_should_match=1)


def search_body(request: SearchRequest, *, index: str, client=None) -> Search:
    """The whole search: query, permission and field filters, facets, highlights, sort, page."""
    text_query = QueryBuilder().build(request.query)
    filters = [readable(request.principals, request.today)]
    filters += [QueryBuilder().build(f) for f in request.filters]
    search = Search(using=client, index=index).query(Q("bool", must=[text_query], filter=filters))
    search = search.extra(track_total_hits=True, from_=request.offset, size=request.limit)
    search = search.source(excludes=["text", "meta"])
    if request.sort == "date":
        search = search.sort({"official_date": {"order": "desc", "missing": "_last"}}, "_score")
    for name in request.facets:
        search.aggs.bucket(name, "terms", field=name, size=100)
    if request.highlight:
        search = search.highlight(
            "text",
            *LANGUAGE_SUBFIELDS.values(),
            "text.cjk",
            fragment_size=SNIPPET_CHARS,
            number_of_fragments=1,
        )
        search = search.highlight_options(
            pre_tags=[MARK_OPEN],
            post_tags=[MARK_CLOSE],
            encoder="html",  # escapes the text; only our tags stay markup
            highlight_query=text_query.to_dict(),
            require_field_match=False,
        )
    return search


def bulk_actions(
    upserts: Iterable[IndexDocument], deletes: Iterable[str], *, index: str, max_text_chars: int
) -> Iterator[dict]:
    for document_id in deletes:
        yield {"_op_type": "delete", "_index": index, "_id": document_id}
    for document in upserts:
        yield {
            "_op_type": "index",
            "_index": index,
            "_id": document.id,
            **source(document, max_text_chars),
        }


def source(document: IndexDocument, max_text_chars: int) -> dict:
    public_from = document.public_from if PUBLIC in document.principals else None
    return {
        "id": document.id,
        "stamp": document.stamp,
        "version": document.version,
        "dossier": document.dossier,
        "dossier_title": document.dossier_title,
        "ip_type": document.ip_type,
        "status": document.status,
        "applicant": list(document.applicants),
        "type": document.type,
        "direction": document.direction,
        "official_date": document.official_date.isoformat() if document.official_date else None,
        "year": document.year or None,
        "language": document.language or None,
        "analysis": list(document.analysis_languages),
        "title": document.title,
        "state": document.state,
        "text": document.text[:max_text_chars],
        "meta": document.meta,
        "principals": list(document.principals),
        "public_from": _clamped(public_from).isoformat() if public_from else None,
    }


def _clamped(day: dt.date) -> dt.date:
    return max(day, dt.date(1000, 1, 1))  # date.min is "public from filing"; keep it sane


# --- The engine -------------------------------------------------------------------------------


class Backend(SearchBackend):
    name = "elasticsearch"

    def __init__(
        self,
        *,
        hosts: str | list[str],
        index_prefix: str = "edms-documents",
        api_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        ca_certs: str | None = None,
        verify_certs: bool = True,
        request_timeout: float = 30.0,
        shards: int = 1,
        replicas: int = 1,
        refresh: bool = False,
        max_text_chars: int = 1_000_000,
    ):
        self.alias = index_prefix
        self.shards, self.replicas = shards, replicas
        self.refresh = refresh
        self.max_text_chars = max_text_chars
        auth = {}
        if api_key:
            auth["api_key"] = api_key
        elif username:
            auth["basic_auth"] = (username, password or "")
        self.client = Elasticsearch(
            hosts if isinstance(hosts, list) else [h.strip() for h in hosts.split(",")],
            ca_certs=ca_certs,
            verify_certs=verify_certs,
            request_timeout=request_timeout,
            **auth,
        )

    def _call(self, operation, *args, **kwargs):
        try:
            return operation(*args, **kwargs)
        except (es_exceptions.ConnectionError, es_exceptions.ConnectionTimeout) as exc:
            raise SearchUnavailable(f"Elasticsearch is unreachable: {exc}") from exc

    # --- Generations ----------------------------------------------------------------------

    def _ensure_template(self) -> None:
        definition = index_definition(
            f"{self.alias}-template", shards=self.shards, replicas=self.replicas
        )
        template = definition.as_composable_template(self.alias, f"{self.alias}-*", priority=100)
        self._call(template.save, using=self.client)

    def create_generation(self) -> str:
        self._ensure_template()
        generation = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S-") + uuid.uuid4().hex[:6]
        self._call(self.client.indices.create, index=f"{self.alias}-{generation}")
        return generation

    def _index_name(self, generation: str | None) -> str:
        return f"{self.alias}-{generation}" if generation else self.alias

    def activate(self, generation: str) -> None:
        target = f"{self.alias}-{generation}"
        current = self._targets()
        actions = [{"remove": {"index": name, "alias": self.alias}} for name in current]
        actions.append({"add": {"index": target, "alias": self.alias, "is_write_index": True}})
        self._call(self.client.indices.update_aliases, actions=actions)
        for name in current:
            if name != target:
                self._call(self.client.indices.delete, index=name, ignore_unavailable=True)

    def _targets(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias).body)
        except NotFoundError:
            return []

    def active_generation(self) -> str | None:
        targets = self._call(self._targets)
        return targets[0].removeprefix(f"{self.alias}-") if targets else None

    def drop_all(self) -> None:
        """Remove every generation and the template (tests, decommissioning)."""
        self._call(self.client.indices.delete, index=f"{self.alias}-*", ignore_unavailable=True)
        try:
            self.client.indices.delete_index_template(name=self.alias)
        except NotFoundError:
            pass

    # --- Writing --------------------------------------------------------------------------

    def bulk(
        self,
        upserts: Iterable[IndexDocument] = (),
        deletes: Iterable[str] = (),
        *,
        generation: str | None = None,
    ) -> None:
        index = self._index_name(generation)
        actions = bulk_actions(upserts, deletes, index=index, max_text_chars=self.max_text_chars)
        # The indexer moves its cursor once this returns, and search trusts the index for every
        # change before the cursor (`search.freshness`): writes to the searched alias must be
        # searchable by then. A generation being filled is not searched yet; it needs no wait.
        searched = generation is None or self.refresh
        failures = []
        for ok, item in self._call(
            helpers.streaming_bulk,
            self.client,
            actions,
            chunk_size=500,
            raise_on_error=False,
            max_retries=3,
            refresh="wait_for" if searched else False,
        ):
            operation, result = next(iter(item.items()))
            if not ok and not (operation == "delete" and result.get("status") == 404):
                failures.append(result)
        if failures:
            raise SearchUnavailable(f"{len(failures)} bulk operations failed: {failures[:3]}")

    # --- Reading --------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResult:
        body = search_body(request, index=self.alias, client=self.client)
        response = self._call(body.execute)
        hits = [self._hit(h) for h in response.hits]
        facets = {
            name: [(str(b.key), b.doc_count) for b in response.aggregations[name].buckets]
            for name in request.facets
        }
        return SearchResult(count=response.hits.total.value, hits=hits, facets=facets)

    def _hit(self, hit) -> Hit:
        data = hit.to_dict()
        official = data.get("official_date")
        fields = {
            "version": data.get("version"),
            "dossier": data.get("dossier"),
            "dossier_title": data.get("dossier_title") or "",
            "title": data.get("title") or "",
            "type": data.get("type"),
            "direction": data.get("direction"),
            "language": data.get("language") or "",
            "ip_type": data.get("ip_type"),
            "status": data.get("status"),
            "state": data.get("state"),
            "official_date": dt.date.fromisoformat(official) if official else None,
        }
        snippets = []
        highlight = getattr(hit.meta, "highlight", None)
        if highlight is not None:
            for name in ("text", *LANGUAGE_SUBFIELDS.values(), "text.cjk"):
                fragments = highlight.to_dict().get(name)
                if fragments:
                    snippets = [f"… {fragments[0]} …"]
                    break
        return Hit(
            id=data["id"],
            score=float(hit.meta.score or 0.0),
            fields=fields,
            snippets=snippets,
            pages=[None] * len(snippets),
        )

    def stamps(self, *, generation: str | None = None) -> Iterator[tuple[str, str]]:
        index = self._index_name(generation)
        self._call(self.client.indices.refresh, index=index)
        for item in helpers.scan(
            self.client, index=index, query={"_source": ["id", "stamp"]}, size=1000
        ):
            yield item["_source"]["id"], item["_source"]["stamp"]

    def count(self) -> int:
        self._call(self.client.indices.refresh, index=self.alias)
        return self._call(self.client.count, index=self.alias)["count"]

    def status(self) -> dict:
        generation = self.active_generation()
        if generation is None:
            return {"backend": self.name, "generation": None, "documents": 0, "size_bytes": 0}
        stats = self._call(self.client.indices.stats, index=self.alias, metric=["docs", "store"])
        total = stats["_all"]["primaries"]
        return {
            "backend": self.name,
            "generation": generation,
            "index": f"{self.alias}-{generation}",
            "documents": total["docs"]["count"],
            "size_bytes": total["store"]["size_in_bytes"],
        }
