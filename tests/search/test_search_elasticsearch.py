"""The cluster engines' builders (`search.backends.querydsl`, shared by Elasticsearch and
OpenSearch), checked against the shapes the DSL produces.

These tests pin the query, mapping, template and bulk shapes (what the engines send); the
contract suite (`test_search_contract.py`) runs the engines live, OpenSearch on a real node.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from search import querylang as q
from search.backends import SearchRequest, SearchUnavailable, build, querydsl_pages
from search.backends import querydsl as dsl
from search.checks import check_search_backend
from tests.search_support import ELASTICSEARCH, OPENSEARCH, index_doc

TODAY = dt.date(2025, 6, 1)
ALL_TEXT = dsl.ORIGINAL.searched


def shape(text: str, fields: dsl.TextFields = dsl.ORIGINAL) -> dict:
    return dsl.QueryBuilder(fields).build(q.parse(text)).to_dict()


def test_words_search_every_language_subfield():
    assert shape("brevet") == {
        "multi_match": {
            "query": "brevet",
            "fields": ALL_TEXT,
            "type": "best_fields",
            "operator": "and",
            "tie_breaker": 0.1,
        }
    }
    assert {"text.fr", "text.ar", "text.cjk"} <= set(ALL_TEXT)
    assert shape('"exact phrase"') == {
        "multi_match": {"query": "exact phrase", "fields": ALL_TEXT, "type": "phrase"}
    }


def test_fields_prefix_fuzzy_and_ranges():
    assert shape("type:clm") == {"term": {"type": "CLM"}}
    assert shape("dossier:BG/P/2024/*") == {"wildcard": {"dossier": {"value": "BG/P/2024/*"}}}
    assert shape("applicant:acme") == {"match": {"applicant": {"query": "acme", "operator": "and"}}}
    assert shape("date:2020-01-01..2021-06-30") == {
        "range": {"official_date": {"gte": "2020-01-01", "lte": "2021-06-30"}}
    }
    assert shape("date:..2021") == {"range": {"official_date": {"lte": "2021-12-31"}}}
    assert shape("Paten*") == {
        "bool": {
            "should": [
                {"prefix": {"text": {"value": "paten"}}},
                {"prefix": {"meta": {"value": "paten"}}},
            ]
        }
    }
    assert shape("brevit~2") == {
        "multi_match": {"query": "brevit", "fields": ["text", "meta"], "fuzziness": 2}
    }


def test_booleans():
    word = shape("a")
    assert shape("a -b") == {"bool": {"must": [word], "must_not": [shape("b")]}}
    assert shape("a OR b") == {"bool": {"should": [word, shape("b")], "minimum_should_match": 1}}
    assert shape("NOT a") == {"bool": {"must": [{"match_all": {}}], "must_not": [word]}}
    assert shape("-a -b") == {"bool": {"must": [{"match_all": {}}], "must_not": [word, shape("b")]}}


def test_words_of_the_redacted_copy_are_looked_for_in_its_own_fields():
    assert shape("brevet", dsl.REDACTED)["multi_match"]["fields"] == [
        "public_text",
        "public_text.en",
        "public_text.fr",
        "public_text.es",
        "public_text.ru",
        "public_text.ar",
        "public_text.cjk",
        "meta",
        "title",
    ]
    assert shape("brevit~2", dsl.REDACTED)["multi_match"]["fields"] == ["public_text", "meta"]


def matches(principals: frozenset[str], text: str = "brevet", *, pages: bool = False) -> dict:
    request = SearchRequest(query=q.parse(text), principals=principals, today=TODAY)
    return dsl.readable_matches(request, pages=pages).to_dict()


PUBLIC_NOW = [
    {"term": {"principals": "public"}},
    {"range": {"public_from": {"lte": "2025-06-01"}}},
]
REDACTED = {"term": {"redacted": "yes"}}


def test_permissions_and_the_text_each_reader_reads_are_inside_the_query():
    """The original's words match for its readers; for the public, a document it reads only
    redacted matches by its copy's words alone."""
    principals = frozenset({"public", "role:examiner"})
    assert matches(principals) == {
        "bool": {
            "should": [
                {
                    "bool": {
                        "must": [shape("brevet")],
                        "filter": [
                            {
                                "bool": {
                                    "should": [
                                        {"terms": {"principals": ["role:examiner"]}},
                                        {"bool": {"filter": PUBLIC_NOW, "must_not": [REDACTED]}},
                                    ],
                                    "minimum_should_match": 1,
                                }
                            }
                        ],
                    }
                },
                {
                    "bool": {
                        "must": [shape("brevet", dsl.REDACTED)],
                        "filter": [*PUBLIC_NOW, REDACTED],
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }
    assert matches(frozenset()) == {"bool": {"must_not": [{"match_all": {}}]}}
    # Staff never search the redacted copy's text.
    assert "public_text" not in str(matches(frozenset({"role:examiner"})))


def test_the_search_body_filters_before_counting_faceting_and_highlighting():
    request = SearchRequest(
        query=q.parse("brevet"),
        principals=frozenset({"public"}),
        today=TODAY,
        filters=[q.Keyword("type", "CLM")],
        sort="date",
        offset=40,
        limit=20,
    )
    body = dsl.search_body(request, index="edms-documents").to_dict()
    query = body["query"]["bool"]
    assert query["must"] == [matches(frozenset({"public"}), pages=True)]
    # Each match asks for its best page, by the words alone and with no weight: the original's
    # among the original's pages, the redacted copy's among the copy's, each by a name of its own.
    original, copy = query["must"][0]["bool"]["should"]
    (page,) = original["bool"]["should"]
    assert page["nested"]["path"] == "pages" and page["nested"]["boost"] == 0
    assert page["nested"]["query"]["bool"]["should"] == [shape("brevet", dsl.PAGE_TEXT)]
    assert page["nested"]["inner_hits"]["size"] == 1
    assert page["nested"]["inner_hits"]["name"] == "page"
    (public_page,) = copy["bool"]["should"]
    assert public_page["nested"]["path"] == "public_pages" and public_page["nested"]["boost"] == 0
    words = public_page["nested"]["query"]["bool"]["should"]
    assert words == [shape("brevet", dsl.PUBLIC_PAGE_TEXT)]
    assert public_page["nested"]["inner_hits"]["name"] == "public_page"
    assert query["filter"] == [{"term": {"type": "CLM"}}]
    assert body["track_total_hits"] is True
    assert (body["from"], body["size"]) == (40, 20)
    assert body["sort"][0] == {"official_date": {"order": "desc", "missing": "_last"}}
    assert set(body["aggs"]) == {"ip_type", "type", "direction", "year", "language", "status"}
    assert body["aggs"]["type"] == {"terms": {"field": "type", "size": 100}}
    highlight = body["highlight"]
    assert highlight["encoder"] == "html"  # the text is escaped; only <mark> is markup
    assert (highlight["pre_tags"], highlight["post_tags"]) == (["<mark>"], ["</mark>"])
    # Each text is highlighted by the query built for it, never by the permission filter.
    fields = highlight["fields"]
    assert fields["text"]["highlight_query"] == fields["text.fr"]["highlight_query"]
    assert fields["text.cjk"]["highlight_query"] == shape("brevet")
    assert fields["public_text.fr"]["highlight_query"] == shape("brevet", dsl.REDACTED)
    assert body["_source"] == {"excludes": ["text", "public_text", "meta"]}


def test_the_template_carries_analyzers_and_a_subfield_per_language():
    template = dsl.index_definition("edms-documents-template").as_composable_template(
        "edms-documents", "edms-documents-*", priority=100
    )
    body = template.to_dict()
    assert body["index_patterns"] == ["edms-documents-*"]
    settings = body["template"]["settings"]
    assert settings["analysis"]["analyzer"]["edms_words"] == {
        "type": "custom",
        "tokenizer": "standard",
        "filter": ["lowercase"],
    }
    properties = body["template"]["mappings"]["properties"]
    for text in ("text", "public_text"):  # the redacted copy's text is analysed alike
        subfields = properties[text]["fields"]
        assert {name: f["analyzer"] for name, f in subfields.items()} == {
            "en": "english",
            "fr": "french",
            "es": "spanish",
            "ru": "russian",
            "ar": "arabic",
            "cjk": "cjk",
        }
    assert properties["principals"] == {"type": "keyword"}
    assert properties["redacted"] == {"type": "keyword"}
    assert properties["public_from"] == {"type": "date", "format": "strict_date"}


def test_the_template_indexes_pages_unstored_and_names_its_mapping_version():
    mappings = dsl.template_body("edms-documents", shards=1, replicas=1)["template"]["mappings"]
    pages = mappings["properties"]["pages"]
    assert pages["type"] == "nested"
    assert pages["properties"]["n"] == {"type": "integer"}
    assert pages["properties"]["text"]["fields"]["fr"] == {"type": "text", "analyzer": "french"}
    # The redacted copy's pages are mapped alike, apart from the original's.
    assert mappings["properties"]["public_pages"] == pages
    assert mappings["_source"] == {"excludes": ["pages", "public_pages"]}
    assert mappings["_meta"] == {"edms_mapping": querydsl_pages.MAPPING_VERSION}
    index = {"mappings": mappings}
    assert not dsl.mapping_outdated({"edms-documents-1": index})
    assert dsl.mapping_outdated({"edms-documents-1": {"mappings": {"properties": {}}}})


def test_page_objects_are_the_non_empty_pages_of_a_paged_text():
    assert querydsl_pages.pages_source("no pages here") is None
    assert querydsl_pages.pages_source("one\f\f three ") == [
        {"n": 1, "text": "one"},
        {"n": 3, "text": " three "},
    ]


def test_each_text_has_its_own_page_objects_and_the_copys_get_what_the_originals_leave():
    original = "\f".join(f"page {n}" for n in range(1, querydsl_pages.MAX_PAGES - 1))
    doc = index_doc(text=original, public_text="cover\fname [withheld]\fclaims")
    indexed = dsl.source(doc, max_text_chars=len(original))
    assert len(indexed["pages"]) == querydsl_pages.MAX_PAGES - 2
    assert indexed["public_pages"] == [
        {"n": 1, "text": "cover"},
        {"n": 2, "text": "name [withheld]"},
    ]
    read_whole = dsl.source(index_doc(text="one\ftwo"), max_text_chars=100)
    assert read_whole["public_pages"] is None and len(read_whole["pages"]) == 2


def test_bulk_actions_index_and_delete_by_document_id():
    doc = index_doc(text="x" * 50, public_from=dt.date.min)
    actions = list(
        dsl.bulk_actions([doc], ["gone-id"], index="edms-documents-1", max_text_chars=10)
    )
    assert actions[0] == {"_op_type": "delete", "_index": "edms-documents-1", "_id": "gone-id"}
    assert (actions[1]["_op_type"], actions[1]["_id"]) == ("index", doc.id)
    indexed = actions[1]["_source"]
    assert indexed["version"] == 1
    assert indexed["text"] == "x" * 10
    assert indexed["public_from"] == "1000-01-01"
    assert indexed["official_date"] == "2024-03-01"
    assert indexed["year"] == "2024"
    assert (indexed["redacted"], indexed["public_text"]) == (None, None)
    redacted = index_doc(text="original", public_text="y" * 50)
    (action,) = dsl.bulk_actions([redacted], [], index="i", max_text_chars=10)
    assert (action["_source"]["redacted"], action["_source"]["public_text"]) == ("yes", "y" * 10)
    private = index_doc(principals=["role:examiner"])
    (action,) = dsl.bulk_actions([private], [], index="i", max_text_chars=10)
    assert action["_source"]["public_from"] is None


def test_options_are_checked_and_an_unreachable_cluster_is_unavailable():
    with pytest.raises(ImproperlyConfigured, match="OPTIONS"):
        build({"BACKEND": ELASTICSEARCH, "OPTIONS": {"hosts": "http://x", "shards_count": 3}})
    backend = build(
        {
            "BACKEND": ELASTICSEARCH,
            # Port 9 (discard) refuses connections: nothing is contacted on the network.
            "OPTIONS": {"hosts": "http://127.0.0.1:9", "request_timeout": 1},
        }
    )
    backend.client = backend.client.options(max_retries=0)
    request = SearchRequest(query=q.parse("x"), principals=frozenset(), today=TODAY)
    with pytest.raises(SearchUnavailable, match="unreachable"):
        backend.search(request)


def test_a_bad_search_configuration_fails_the_system_check(settings):
    settings.EDMS_SEARCH = {"BACKEND": "search.backends.embedded.Backend", "OPTIONS": {"pth": "x"}}
    (error,) = check_search_backend(None)
    assert error.id == "search.E001"
    assert "pth" in error.msg
    settings.EDMS_SEARCH = {"BACKEND": "search.backends.nothing.Backend"}
    assert check_search_backend(None)[0].id == "search.E001"
    settings.EDMS_SEARCH = {"BACKEND": "search.backends.embedded.Backend", "EXTRA": 1}
    assert "EXTRA" in check_search_backend(None)[0].msg


def search_settings(**variables) -> subprocess.CompletedProcess:
    """EDMS_SEARCH as a fresh interpreter reads it (settings are read once, at start-up)."""
    probe = "from django.conf import settings; print(settings.EDMS_SEARCH['BACKEND'])"
    env = {k: v for k, v in os.environ.items() if not k.endswith(("SEARCH_URL", "SEARCH_URL_FILE"))}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {probe}"],
        env={**env, "DJANGO_SETTINGS_MODULE": "edms.settings", **variables},
        capture_output=True,
        text=True,
    )


def test_opensearch_url_selects_opensearch_and_not_together_with_elasticsearch_url():
    chosen = search_settings(OPENSEARCH_URL="http://search.internal:9200")
    assert chosen.stdout.strip() == "search.backends.opensearch.Backend"
    both = search_settings(OPENSEARCH_URL="http://a:9200", ELASTICSEARCH_URL="http://b:9200")
    assert both.returncode != 0
    assert "ELASTICSEARCH_URL or OPENSEARCH_URL, not both" in both.stderr


def test_an_unreachable_opensearch_cluster_is_unavailable():
    with pytest.raises(ImproperlyConfigured, match="OPTIONS"):
        build({"BACKEND": OPENSEARCH, "OPTIONS": {"hosts": "http://x", "api_key": "k"}})
    backend = build(
        {"BACKEND": OPENSEARCH, "OPTIONS": {"hosts": "http://127.0.0.1:9", "request_timeout": 1}}
    )
    backend.client.transport.max_retries = 0
    request = SearchRequest(query=q.parse("x"), principals=frozenset(), today=TODAY)
    with pytest.raises(SearchUnavailable, match="OpenSearch is unreachable"):
        backend.search(request)
