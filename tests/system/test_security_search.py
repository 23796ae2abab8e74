"""Issue 10, finding 2: search never shows what the caller may not read *now*.

The index is written asynchronously (the `index` queue's consumer follows the outbox), so right
after a document is reclassified the index still holds its old readers. These tests stop the
index writer — nothing runs `indexer.sync` after the change, and the outbox shows the change as
not yet indexed — reclassify through the real actions, and search as every persona through the
API (and the UI): the hidden document must be gone from hits, the count, every facet and every
snippet, while what each persona may still read stays found.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.utils import timezone

from dossier import actions
from dossier.audit import Actor
from dossier.models import Document, Dossier
from dossier.roles import Role
from search import find, freshness, indexer
from search import querylang as q
from search.backends import SearchRequest, SearchUnavailable, build, querydsl
from search.backends import elasticsearch as es
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.search_support import ELASTICSEARCH, give_text, index_doc

pytestmark = pytest.mark.django_db

ACTOR = Actor(label="tests")
PERSONAS = ("public", "examiner", "records_clerk", "registry")


@pytest.fixture
def office(search_backend):
    """A published dossier holding the `target` (public, type OA) and a `bystander` (public,
    type CLM) in another published dossier; an unpublished and a secret dossier to move into.
    Everything is indexed; afterwards the index writer is stopped (never run again)."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    home = create_dossier("BG/P/2023/1", title="Airship hull", published_at=yesterday)
    elsewhere = create_dossier("BG/P/2023/2", title="Hangar door", published_at=yesterday)
    create_dossier("BG/P/2024/3", title="Pending application")
    create_dossier("BG/P/2024/4", title="Defence matter", published_at=yesterday, secret=True)
    target = file_document(home, type_code="OA", title="Zeppelin envelope report")
    bystander = file_document(elsewhere, type_code="CLM", title="Hangar claims")
    give_text(target, "The zeppelin envelope is doped with aluminium paint.", languages=["en"])
    give_text(bystander, "A zeppelin hangar with a sliding door.", languages=["en"])
    indexer.sync()
    assert indexer.lag()["events_behind"] == 0
    return {"target": target, "bystander": bystander}


def reclassify(scenario: str, document: Document) -> None:
    """Change who may read `document` through the action an office would use."""
    if scenario == "confidential":
        actions.update_document(document, {"visibility": "confidential"}, actor=ACTOR)
    elif scenario == "internal":
        actions.update_document(document, {"visibility": "internal"}, actor=ACTOR)
    elif scenario == "dossier unpublished":
        actions.upsert_dossier(document.dossier.key, {"published_at": None}, actor=ACTOR)
    elif scenario == "dossier secret":
        actions.upsert_dossier(document.dossier.key, {"secret": True}, actor=ACTOR)
    elif scenario == "cancelled":
        actions.cancel_document(document, reason="filed in error", actor=ACTOR)
    elif scenario == "moved to an unpublished dossier":
        target = Dossier.objects.get(key="BG/P/2024/3")
        actions.update_document(document, {"dossier": target}, actor=ACTOR)
    elif scenario == "moved to a secret dossier":
        target = Dossier.objects.get(key="BG/P/2024/4")
        actions.update_document(document, {"dossier": target}, actor=ACTOR)
    else:  # pragma: no cover - a typo in the parameters below
        raise AssertionError(scenario)


# Who loses the target by each change (DOMAIN.md "Who may see what"); the registry sees all.
LOSES = {
    "confidential": {"public"},
    "internal": {"public", "records_clerk"},
    "dossier unpublished": {"public"},
    "dossier secret": {"public", "examiner", "records_clerk"},
    "cancelled": {"public"},
    "moved to an unpublished dossier": {"public"},
    "moved to a secret dossier": {"public", "examiner", "records_clerk"},
}


def clients(request) -> dict:
    return {name: request.getfixturevalue(name) for name in PERSONAS}


def search(client, **params) -> dict:
    response = client.get("/api/v1/search", params)
    assert response.status_code == 200, response.content
    return response.json()


def found(body) -> set[str]:
    return {r["document"] for r in body["results"]}


def facet_values(body) -> dict[str, dict[str, int]]:
    return {
        name: {item["value"]: item["count"] for item in items}
        for name, items in body["facets"].items()
    }


@pytest.mark.parametrize("scenario", list(LOSES))
def test_a_reclassified_document_leaves_search_before_the_index_catches_up(
    request, office, scenario
):
    target, bystander = str(office["target"].id), str(office["bystander"].id)
    personas = clients(request)
    for client in personas.values():  # before: everyone finds both
        assert found(search(client, q="zeppelin")) == {target, bystander}

    reclassify(scenario, office["target"])
    # The index writer is stopped: the change is in the outbox, not in the index.
    assert indexer.lag()["events_behind"] >= 1

    for name, client in personas.items():
        hidden = name in LOSES[scenario]
        expected = {bystander} if hidden else {target, bystander}
        body = search(client, q="zeppelin")
        assert found(body) == expected, f"{name} after {scenario}"
        assert body["count"] == len(expected), f"{name} after {scenario}: count"
        facets = facet_values(body)
        for facet in ("type", "direction", "year", "ip_type", "language"):  # status is unset
            assert sum(facets[facet].values()) == len(expected), f"{name}: facet {facet}"
        snippets = " ".join(s for r in body["results"] for s in r["snippets"])
        titles = " ".join(r["title"] for r in body["results"])
        if hidden:
            assert "OA" not in facets["type"], f"{name} after {scenario}: type facet"
            assert "aluminium" not in snippets and "Zeppelin envelope" not in titles
            # Asked for words only the target holds: nothing at all, not even a facet count.
            for words in ("aluminium", "envelope doped", 'title:"zeppelin envelope"'):
                nothing = search(client, q=words)
                assert nothing["count"] == 0 and nothing["results"] == [], f"{name}: {words}"
                assert all(not items for items in nothing["facets"].values()), name
            assert search(client, q="", type="OA")["count"] == 0, f"{name}: type filter"
        else:
            assert facets["type"] == {"OA": 1, "CLM": 1}, f"{name} after {scenario}"

    # Once the writer catches up the index agrees, and search answers the same.
    indexer.sync()
    for name, client in personas.items():
        hidden = name in LOSES[scenario]
        assert found(search(client, q="zeppelin")) == (
            {bystander} if hidden else {target, bystander}
        )


def test_the_examiner_ui_search_hides_it_too(office):
    """The UI's search page calls the same `find.find_documents` as the API."""
    reclassify("dossier secret", office["target"])
    examiner = Client()
    examiner.force_login(UserFactory(role=Role.EXAMINER))
    for client in (Client(), examiner):
        page = client.get("/search", {"q": "zeppelin"}).content.decode()
        assert "1 document found" in page
        assert str(office["target"].id) not in page
        assert "envelope" not in page and "aluminium" not in page
        assert str(office["bystander"].id) in page


def test_what_is_hidden_is_what_the_caller_cannot_read_now(office):
    """Hiding follows the database now, not the mere fact that a change is pending: a change
    back is found at once (the index's older entry agrees with it), and after indexing too."""
    public = AnonymousUser()
    criteria = find.Criteria(q="aluminium")
    reclassify("confidential", office["target"])
    assert find.find_documents(public, criteria)["count"] == 0
    actions.update_document(office["target"], {"visibility": "public"}, actor=ACTOR)
    assert indexer.lag()["events_behind"] == 2
    assert find.find_documents(public, criteria)["count"] == 1
    indexer.sync()
    assert find.find_documents(public, criteria)["count"] == 1


def test_a_page_of_hits_is_checked_against_the_database(office, settings):
    """The last guard: even a change the outbox never announced (here the row is changed behind
    the actions' back) cannot put an unreadable hit on the page, nor in the count."""
    Document.objects.filter(pk=office["target"].pk).update(visibility="confidential")
    body = find.find_documents(AnonymousUser(), find.Criteria(q="zeppelin"))
    assert {r["document"] for r in body["results"]} == {str(office["bystander"].id)}
    assert body["count"] == 1
    assert {item["value"] for item in body["facets"]["type"]} == {"CLM"}


def test_search_costs_constant_queries(office, django_assert_num_queries):
    """Nothing pending: one query for the pending changes, one for the page of hits. Pending
    changes cost one query more, however many they are."""
    public = AnonymousUser()
    criteria = find.Criteria(q="zeppelin")
    with django_assert_num_queries(2):
        find.find_documents(public, criteria)
    reclassify("dossier secret", office["target"])
    with django_assert_num_queries(3):
        assert found(find.find_documents(public, criteria)) == {str(office["bystander"].id)}
    bystander = office["bystander"]
    for visibility in ("confidential", "internal", "public"):
        actions.update_document(bystander, {"visibility": visibility}, actor=ACTOR)
    with django_assert_num_queries(3):
        body = find.find_documents(public, criteria)
    assert found(body) == {str(bystander.id)}


def test_beyond_the_bounds_whole_dossiers_are_left_out_then_search_waits(office, monkeypatch):
    """Too many hidden documents to leave out one by one: every dossier the changes touch is left
    out (never leaked); too many dossiers even for that: search says it is catching up."""
    moved_from = office["target"].dossier.key
    reclassify("moved to an unpublished dossier", office["target"])
    monkeypatch.setattr(freshness, "MAX_PENDING", 0)
    assert freshness.exclusions(AnonymousUser()) == freshness.Exclusions(
        dossiers=frozenset({moved_from, "BG/P/2024/3"})
    )
    body = find.find_documents(AnonymousUser(), find.Criteria(q="zeppelin"))
    assert found(body) == {str(office["bystander"].id)} and body["count"] == 1
    examiner = UserFactory(role=Role.EXAMINER)  # nothing hidden from the examiner: no fallback
    assert len(found(find.find_documents(examiner, find.Criteria(q="zeppelin")))) == 2
    monkeypatch.setattr(freshness, "MAX_PENDING_DOSSIERS", 0)
    with pytest.raises(SearchUnavailable, match="catching up"):
        find.find_documents(AnonymousUser(), find.Criteria(q="zeppelin"))
    indexer.sync()
    assert len(found(find.find_documents(examiner, find.Criteria(q="zeppelin")))) == 2
    assert found(find.find_documents(AnonymousUser(), find.Criteria(q="zeppelin"))) == {
        str(office["bystander"].id)
    }


def test_the_elasticsearch_body_excludes_in_the_same_filter():
    """Elasticsearch shares the query construction: the exclusions are must-not terms inside
    the filter that also bounds counts and aggregations (no server runs here)."""
    exclusions = [
        q.Not(q.KeywordSet("id", frozenset({"b", "a"}))),
        q.Not(q.KeywordSet("dossier", frozenset({"K"}))),
    ]
    request = SearchRequest(
        query=q.parse("zeppelin"),
        principals=frozenset({"public"}),
        today=dt.date(2025, 6, 1),
        filters=exclusions,
    )
    query = es.search_body(request, index="edms-documents").to_dict()["query"]["bool"]
    # The permissions (and which text each reader reads) are the `must`; these the filter.
    assert query["must"] == [querydsl.readable_matches(request, pages=True).to_dict()]
    assert query["filter"] == [
        {"bool": {"must": [{"match_all": {}}], "must_not": [{"terms": {"id": ["a", "b"]}}]}},
        {"bool": {"must": [{"match_all": {}}], "must_not": [{"terms": {"dossier": ["K"]}}]}},
    ]


def test_with_public_access_off_the_public_finds_nothing(office, settings):
    settings.EDMS_PUBLIC_ACCESS = False
    reclassify("confidential", office["target"])
    body = find.find_documents(AnonymousUser(), find.Criteria(q="zeppelin"))
    assert body["count"] == 0 and body["results"] == []


def test_elasticsearch_writes_to_the_searched_alias_are_searchable_when_bulk_returns(
    monkeypatch,
):
    """The indexer moves its cursor when `bulk` returns, and search trusts the index for every
    change before the cursor: Elasticsearch must not return before the write is searchable
    (its refresh interval would otherwise be a window). Generations being filled need no wait.
    The client's bulk helper is replaced: no server runs here."""
    backend = build({"BACKEND": ELASTICSEARCH, "OPTIONS": {"hosts": "http://127.0.0.1:9"}})
    refreshes = []

    def streaming_bulk(client, actions, **options):
        refreshes.append(options["refresh"])
        return iter([(True, {"index": {"status": 201}}) for _ in actions])

    monkeypatch.setattr(es.helpers, "streaming_bulk", streaming_bulk)
    # Before writing to the alias the backend asks which index it names (to refuse one built by
    # an older mapping): the answer of a cluster whose alias names no index yet.
    no_index = SimpleNamespace(body={})
    monkeypatch.setattr(backend.client.indices, "get_alias", lambda **kwargs: no_index)
    backend.bulk(upserts=[index_doc()])
    backend.bulk(deletes=["gone"])
    backend.bulk(upserts=[index_doc()], generation="20250101000000-abcdef")
    assert refreshes == ["wait_for", "wait_for", False]
