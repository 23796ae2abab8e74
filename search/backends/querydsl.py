"""What the Elasticsearch and OpenSearch engines share: the mapping, the index template, the
query and search bodies, the bulk actions, and reading a response's hits — one construction, so
the two engines index and search alike.

Built with `elasticsearch.dsl` (never hand-written dicts); its objects serialise with `to_dict()`
into the JSON both engines accept, so the OpenSearch engine sends the same bodies through its own
client. Text is one `text` field with a sub-field per language analyzer (`text.fr`, ... and
`text.cjk`, bigrams for Chinese, Japanese and Korean): highlighting reads the one stored `text`
whichever sub-field matched. The redacted copy's text of a document the public reads only
redacted is `public_text`, analysed alike (`REDACTED`), and `redacted` marks such a document: a
caller reading it only as the public is matched by that text alone (`readable_matches`) and
quoted from it alone (`hit_from` keeps the snippet of the text the caller reads), and given a
page of it alone (`querydsl_pages`: each text's pages are indexed apart).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

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
    CJK,
    PUBLIC,
    SNIPPET_CHARS,
    STEMMED_LANGUAGES,
    Hit,
    IndexDocument,
    SearchRequest,
    SearchResult,
    principal_filter_parts,
    reads_redacted,
)
from search.backends.querydsl_pages import (
    MAPPING_VERSION,
    MAX_PAGES,
    PAGES,
    PUBLIC_PAGE_HIT,
    PUBLIC_PAGES,
    best_page,
    page_of,
    pages_field,
    pages_source,
)

KEYWORDS = ("id", "stamp", "dossier", "type", "direction", "language", "ip_type", "status")
KEYWORDS += ("year", "state", "principals", "analysis", "redacted")
# The page texts are indexed, never stored: `_source` keeps the text once, in `text`. `_meta`
# says which mapping built an index (`mapping_outdated`).
MAPPING_META = {
    "_source": {"excludes": [PAGES, PUBLIC_PAGES]},
    "_meta": {"edms_mapping": MAPPING_VERSION},
}
WORDS = analyzer("edms_words", tokenizer="standard", filter=["lowercase"])
MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
REDACTED_MARK = "yes"  # the `redacted` keyword of a document the public reads only redacted


@dataclass(frozen=True)
class TextFields:
    """One text's field and its analysed sub-fields (`text.fr`, ..., `text.cjk`)."""

    name: str

    @property
    def highlighted(self) -> list[str]:
        """The field and its sub-fields, in the order a snippet is taken from them."""
        languages = [f"{self.name}.{code}" for code in STEMMED_LANGUAGES]
        return [self.name, *languages, f"{self.name}.cjk"]

    @property
    def searched(self) -> list[str]:
        """What words without a field are looked for in: the text and the metadata."""
        return [*self.highlighted, "meta", "title"]

    @property
    def unstemmed(self) -> list[str]:
        """What prefix and fuzzy queries read: the text word by word, and the metadata."""
        return [self.name, "meta"]


ORIGINAL = TextFields("text")  # the original's text: what its readers search
REDACTED = TextFields("public_text")  # the redacted copy's: what the public searches instead


@dataclass(frozen=True)
class PageTextFields(TextFields):
    """One page's text (`querydsl_pages`): its words only, as the metadata is on no page."""

    @property
    def searched(self) -> list[str]:
        return self.highlighted

    @property
    def unstemmed(self) -> list[str]:
        return [self.name]


PAGE_TEXT = PageTextFields(f"{PAGES}.text")
PUBLIC_PAGE_TEXT = PageTextFields(f"{PUBLIC_PAGES}.text")


def mapping() -> Mapping:
    """The documents' mapping (also what the index template carries)."""
    m = Mapping()
    for name in KEYWORDS:
        m.field(name, Keyword())
    subfields = {code: Text(analyzer=language) for code, language in STEMMED_LANGUAGES.items()}
    subfields["cjk"] = Text(analyzer="cjk")
    for text in (ORIGINAL, REDACTED):
        m.field(text.name, Text(analyzer=WORDS, fields=subfields))
    m.field(PAGES, pages_field(WORDS, subfields))
    m.field(PUBLIC_PAGES, pages_field(WORDS, subfields))
    for name, value in MAPPING_META.items():
        m.meta(name, value)
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
    """Translates the query language's syntax tree into DSL queries; words without a field are
    looked for in `text` (the original's fields, or the redacted copy's) and the metadata."""

    def __init__(self, text: TextFields = ORIGINAL):
        self.text = text

    def build(self, node: q.Node) -> Query:
        return getattr(self, f"_{type(node).__name__.lower()}")(node)

    def _matchall(self, node: q.MatchAll) -> Query:
        return Q("match_all")

    def _term(self, node: q.Term) -> Query:
        if CJK.search(node.text):
            # Unsegmented CJK text: the word is its characters in order, not in any order.
            return self._phrase(node)
        if node.field:
            return Q("match", **{node.field: {"query": node.text, "operator": "and"}})
        return Q(
            "multi_match",
            query=node.text,
            fields=self.text.searched,
            type="best_fields",
            operator="and",
            tie_breaker=0.1,
        )

    def _phrase(self, node: q.Phrase) -> Query:
        if node.field:
            return Q("match_phrase", **{node.field: node.text})
        return Q("multi_match", query=node.text, fields=self.text.searched, type="phrase")

    def _prefix(self, node: q.Prefix) -> Query:
        fields = [node.field] if node.field else self.text.unstemmed
        value = node.text.lower()
        return Q("bool", should=[Q("prefix", **{f: {"value": value}}) for f in fields])

    def _fuzzy(self, node: q.Fuzzy) -> Query:
        fields = [node.field] if node.field else self.text.unstemmed
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


def readable_matches(request: SearchRequest, *, pages: bool = False) -> Query:
    """The documents that match the request's query *as the caller reads them*, among those one
    of the caller's principals may read (`base.principal_filter_parts`): by the original's text
    where the caller reads the original, by the redacted copy's text (`REDACTED`) where the
    caller reads the document only as the public and the public reads it only redacted. With
    `pages`, a match also asks for its best page of the text it matched (`querydsl_pages`)."""
    outright, public = principal_filter_parts(request.principals)
    public_now = [
        Q("term", principals=PUBLIC),
        Q("range", public_from={"lte": request.today.isoformat()}),
    ]
    redacted = Q("term", redacted=REDACTED_MARK)
    readers_of_original = []
    if outright:
        readers_of_original.append(Q("terms", principals=outright))
    if public:
        readers_of_original.append(Q("bool", filter=public_now, must_not=[redacted]))
    options = []
    if readers_of_original:
        original = QueryBuilder(ORIGINAL).build(request.query)
        readers = Q("bool", should=readers_of_original, minimum_should_match=1)
        page = best_page(request, QueryBuilder(PAGE_TEXT)) if pages else None
        should = [page] if page else []
        options.append(Q("bool", must=[original], filter=[readers], should=should))
    if public:
        copy = QueryBuilder(REDACTED).build(request.query)
        page = None
        if pages:
            builder = QueryBuilder(PUBLIC_PAGE_TEXT)
            page = best_page(request, builder, path=PUBLIC_PAGES, name=PUBLIC_PAGE_HIT)
        should = [page] if page else []
        options.append(Q("bool", must=[copy], filter=[*public_now, redacted], should=should))
    if not options:
        return Q("bool", must_not=[Q("match_all")])
    return Q("bool", should=options, minimum_should_match=1)


def search_body(request: SearchRequest, *, index: str, client=None) -> Search:
    """The whole search: query, permission and field filters, facets, highlights, sort, page."""
    filters = [QueryBuilder().build(f) for f in request.filters]
    matches = readable_matches(request, pages=request.highlight)
    query = Q("bool", must=[matches], filter=filters)
    search = Search(using=client, index=index).query(query)
    search = search.extra(track_total_hits=True, from_=request.offset, size=request.limit)
    search = search.source(excludes=["text", "public_text", "meta"])
    if request.sort == "date":
        search = search.sort({"official_date": {"order": "desc", "missing": "_last"}}, "_score")
    for name in request.facets:
        search.aggs.bucket(name, "terms", field=name, size=100)
    if request.highlight:
        # Each text highlighted with the query built for it; which of the two a hit's snippet
        # comes from is decided per hit (`hit_from`), as a highlighter cannot tell per document.
        for text in (ORIGINAL, REDACTED):
            search = search.highlight(
                *text.highlighted,
                fragment_size=SNIPPET_CHARS,
                number_of_fragments=1,
                highlight_query=QueryBuilder(text).build(request.query).to_dict(),
            )
        search = search.highlight_options(
            pre_tags=[MARK_OPEN],
            post_tags=[MARK_CLOSE],
            encoder="html",  # escapes the text; only our tags stay markup
            require_field_match=False,
        )
    return search


def bulk_actions(
    upserts: Iterable[IndexDocument], deletes: Iterable[str], *, index: str, max_text_chars: int
) -> Iterator[dict]:
    for document_id in deletes:
        yield {"_op_type": "delete", "_index": index, "_id": document_id}
    for document in upserts:
        # The document under `_source`, never spread beside the metadata: opensearch-py's
        # helpers read a bare `version` key as the indexing version.
        yield {
            "_op_type": "index",
            "_index": index,
            "_id": document.id,
            "_source": source(document, max_text_chars),
        }


def source(document: IndexDocument, max_text_chars: int) -> dict:
    public_from = document.public_from if PUBLIC in document.principals else None
    redacted = document.public_text is not None
    text = document.text[:max_text_chars]
    public_text = document.public_text[:max_text_chars] if redacted else None
    pages = pages_source(text)
    # The copy's pages get what the original's leave of a document's nested objects.
    public_pages = (
        pages_source(public_text, limit=MAX_PAGES - len(pages or ())) if redacted else None
    )
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
        "text": text,
        PAGES: pages,
        "meta": document.meta,
        "principals": list(document.principals),
        "public_from": _clamped(public_from).isoformat() if public_from else None,
        "redacted": REDACTED_MARK if redacted else None,
        "public_text": public_text,
        PUBLIC_PAGES: public_pages,
    }


def _clamped(day: dt.date) -> dt.date:
    return max(day, dt.date(1000, 1, 1))  # date.min is "public from filing"; keep it sane


def template_body(alias: str, *, shards: int, replicas: int) -> dict:
    """The composable index template for every generation `<alias>-*`."""
    definition = index_definition(f"{alias}-template", shards=shards, replicas=replicas)
    body = definition.as_composable_template(alias, f"{alias}-*", priority=100).to_dict()
    # The template's copy of the index (`clone`) drops the mapping's `_source` and `_meta`.
    body["template"]["mappings"].update(MAPPING_META)
    return body


def mapping_outdated(mappings: dict) -> bool:
    """Whether an index whose mappings (a `GET <index>/_mapping` answer) are `mappings` was built
    by an earlier edms, with fewer fields than this one searches (`MAPPING_VERSION`)."""
    for index in mappings.values():
        meta = (index.get("mappings") or {}).get("_meta") or {}
        if meta.get("edms_mapping", 1) < MAPPING_VERSION:
            return True
    return False


# --- Reading responses ------------------------------------------------------------------------


def search_result(response: dict, request: SearchRequest) -> SearchResult:
    """A search response (the engine's JSON) as the contract's result."""
    aggregations = response.get("aggregations") or {}
    facets = {
        name: [(str(b["key"]), b["doc_count"]) for b in aggregations[name]["buckets"]]
        for name in request.facets
    }
    hits = [hit_from(raw, request.principals) for raw in response["hits"]["hits"]]
    return SearchResult(count=response["hits"]["total"]["value"], hits=hits, facets=facets)


def hit_from(raw: dict, caller: frozenset[str]) -> Hit:
    """A hit of the response, its snippet from the text the `caller` reads: the redacted copy's
    for a document the caller reads only as the public (the original's highlight, which the
    engine made too, is dropped unread), else the original's."""
    data = raw.get("_source") or {}
    official = data.get("official_date")
    redacted = data.get("redacted") == REDACTED_MARK
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
        "redacted": redacted,
    }
    copy = reads_redacted(data.get("principals") or [], redacted, caller)
    text = REDACTED if copy else ORIGINAL
    snippets = []
    highlight = raw.get("highlight") or {}
    for name in text.highlighted:
        fragments = highlight.get(name)
        if fragments:
            # The html encoder also escapes "/" (`&#x2F;`); plain text needs no escape for it.
            snippets = [f"… {fragments[0].replace('&#x2F;', '/')} …"]
            break
    return Hit(
        id=data["id"],
        score=float(raw.get("_score") or 0.0),
        fields=fields,
        snippets=snippets,
        pages=[page_of(raw, redacted_copy=copy)] * len(snippets),
    )
