"""Which page a cluster's hit lands on (Elasticsearch and OpenSearch).

Their highlighters return the fragment's text but not where in the text it was, so the form feeds
before it (`ingest.pages`) cannot be counted as the embedded engine does. Instead each page's text
is indexed once more as a `nested` object, `pages: [{n, text}]`, analysed as `text` is; and the
search asks, beside the hit, for its best-matching page: a nested query of the query's words
(`querylang.positive_terms`, what the highlighter marks too) whose one `inner_hit` names the page
(its `n`, read from doc values).

- Costs: a paged text's words are indexed twice (the page objects are Lucene documents of their
  own), but stored once: `pages` is left out of `_source`, and the inner hit asks for no source.
  A text without form feeds has no page objects at all.
- The nested query carries no weight (boost 0): it never changes which documents match or how
  they rank; it is there only for its inner hit.
- A phrase whose words run over a page break matches no page's text: that hit has no page.
- The redacted copy's text (`public_text`) has pages of its own, `public_pages`, mapped and left
  out of `_source` alike: a hit the public reads only through that copy asks them (its inner hit
  is `public_page`), and `page_of` reads that page and only that one, never a page found in the
  original's text (the copy's pages are where its words are, as the public is shown them).
- A document holds at most `MAX_PAGES` page objects in all: the copy's pages get what the
  original's leave.
- An index built before pages were indexed (`MAPPING_VERSION`) has no `pages` field: the nested
  query ignores it (`ignore_unmapped`) and hits have no page until the index is rebuilt
  (`SearchBackend.outdated`, which the index worker acts on).
"""

from __future__ import annotations

from elasticsearch.dsl import Integer, Nested, Q, Text
from elasticsearch.dsl.query import Query

from search import querylang as q
from search.backends.base import SearchRequest

PAGE_BREAK = "\f"  # what extraction puts between pages (`ingest.pages`; search never imports it)
PAGES = "pages"  # the original's text, page by page
PUBLIC_PAGES = "public_pages"  # the redacted copy's text (`public_text`), page by page
PAGE_HIT = "page"  # the inner hits' name in a hit's `inner_hits` (the original's pages)
PUBLIC_PAGE_HIT = "public_page"  # ... and the copy's: each hit reads only its reader's
# Elasticsearch's and OpenSearch's default `index.mapping.nested_objects.limit`: a document with
# more page objects than that (both texts' together) would be refused whole; its later pages go
# unindexed instead.
MAX_PAGES = 10_000
# Raised whenever the mapping changes in a way an existing index cannot follow: an index whose
# `_meta` names an older version is rebuilt (`outdated`). 2: `pages` added. 3: `public_pages`.
MAPPING_VERSION = 3


def pages_field(analyzer, subfields: dict) -> Nested:
    """The mapping of `pages`: each page's number and its text, analysed as `text` is."""
    return Nested(properties={"n": Integer(), "text": Text(analyzer=analyzer, fields=subfields)})


def pages_source(text: str, *, limit: int = MAX_PAGES) -> list[dict] | None:
    """The page objects of a text (already cut to the index's length): one per non-empty page,
    numbered from 1, at most `limit`; None for a text without form feeds (one page, no page to
    tell)."""
    if PAGE_BREAK not in text:
        return None
    pages = text.split(PAGE_BREAK)
    return [{"n": n, "text": page} for n, page in enumerate(pages, 1) if page.strip()][:limit]


def best_page(
    request: SearchRequest, builder, *, path: str = PAGES, name: str = PAGE_HIT
) -> Query | None:
    """A query that matches whatever it is added to, and whose inner hit `name` is the hit's page
    (of the nested field `path`) that best matches the query's words (`builder` builds each
    word's query for `<path>.text`)."""
    words = q.positive_terms(request.query)
    if not words:
        return None
    return Q(
        "nested",
        path=path,
        query=Q("bool", should=[builder.build(word) for word in words], minimum_should_match=1),
        score_mode="max",
        ignore_unmapped=True,
        boost=0,
        # The page's number from its doc values: `_nested.offset` counts indexed page objects,
        # and empty pages are not indexed.
        inner_hits={
            "name": name,
            "size": 1,
            "_source": False,
            "docvalue_fields": [f"{path}.n"],
        },
    )


def page_of(raw: dict, *, redacted_copy: bool) -> int | None:
    """The page a response's hit lands on, if the engine found one: for a hit quoted from the
    redacted copy, the copy's page (`public_pages`) alone, never the original's."""
    name, path = (PUBLIC_PAGE_HIT, PUBLIC_PAGES) if redacted_copy else (PAGE_HIT, PAGES)
    found = ((raw.get("inner_hits") or {}).get(name) or {}).get("hits", {}).get("hits") or []
    numbers = (found[0].get("fields") or {}).get(f"{path}.n") if found else None
    return int(numbers[0]) if numbers else None
