"""One contract for every vector store (`similarity.vectorstores`): the embedded usearch file
always, OpenSearch's k-NN (Lucene engine) when a node is named (EDMS_TEST_OPENSEARCH_URL; CI's
cluster leg, whose launcher loads the plugin; `infra/opensearch.sh start` here). Through the
domain's surface: documents are filed, given a text and embedded by the backfill, and found by
`similarity.finding.similar` on behalf of a user — a document the caller may not read never comes
back, however alike."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from celery import current_app
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.utils import timezone

from dossier import actions, blobstore, events
from dossier.access import user_principals
from dossier.audit import Actor
from dossier.roles import Role
from similarity import embedder, embedding, finding, vectorstores
from similarity.models import Chunk
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.search_support import cluster_url, give_text

pytestmark = pytest.mark.django_db

GEARS = (
    "A gearbox with helical gears and a lubricating oil pump driven by the input shaft, the pump "
    "feeding oil to the gear teeth through nozzles in the housing."
)
VALVE = "A heart valve prosthesis with three leaflets of bovine pericardium sewn on a stent."
ANTIBODY = (
    "A pharmaceutical composition comprising an antibody against interleukin receptors, "
    "formulated as a lyophilised powder for subcutaneous injection in patients with asthma."
)
STORES = {
    "embedded": "similarity.vectorstores.embedded.Store",
    "opensearch": "similarity.vectorstores.opensearch.Store",
}


@pytest.fixture(params=list(STORES))
def store(request, settings, tmp_path):
    settings.EDMS_SIMILARITY_DIR = tmp_path / "similarity"
    config: dict = {"BACKEND": STORES[request.param]}
    if request.param == "opensearch":
        if not cluster_url("opensearch"):
            pytest.skip(
                "no OpenSearch node: set EDMS_TEST_OPENSEARCH_URL (infra/opensearch.sh start)"
            )
        config["OPTIONS"] = {
            "hosts": cluster_url("opensearch"),
            "index": f"edms-test-chunks-{uuid.uuid4().hex[:8]}",
            "refresh": True,
        }
    settings.EDMS_SIMILARITY_VECTOR_STORE = config
    chosen = vectorstores.configured()
    yield request.param, chosen
    if request.param == "opensearch":
        chosen.client.indices.delete(index=chosen.index, ignore_unavailable=True)


@pytest.fixture
def office(store):
    """Gears described in a published dossier (public), a secret one and an internal note; an
    unrelated antibody patent; all embedded by the backfill."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    published = create_dossier("BG/P/2023/1", published_at=yesterday)
    secret = create_dossier("BG/P/2024/3", published_at=yesterday, secret=True)
    other = create_dossier("BG/P/2023/9", published_at=yesterday, title="Asthma antibody")
    documents = {
        "public": file_document(published, type_code="DESC"),
        "internal": file_document(published, type_code="DESC", visibility="internal"),
        "secret": file_document(secret, type_code="DESC"),
        "unrelated": file_document(other, type_code="DESC"),
    }
    texts = {
        "public": GEARS,
        "internal": GEARS + " Examiner's note: compare with the cited prior art.",
        "secret": GEARS + " Classified variant for armoured vehicles.",
        "unrelated": ANTIBODY,
    }
    for name, document in documents.items():
        give_text(document, texts[name], languages=["en"])
    call_command("similarity", "backfill")
    return {name: document for name, document in documents.items()}


def cleared_examiner():
    """Reads every document here: the secret dossier's too."""
    return UserFactory(role=Role.EXAMINER, secret_clearance=True)


def found(user, text: str, limit: int = 10) -> list[str]:
    results = finding.similar(user, text, terms=[], exclude=None, limit=limit)
    return [r["document"] for r in results]


def test_the_nearest_document_comes_first_with_the_shared_passage(office):
    examiner = cleared_examiner()
    results = finding.similar(examiner, GEARS, terms=[], exclude=None, limit=10)
    assert results[0]["dense_score"] > 0.9
    assert "helical gears" in results[0]["reason"]["passage"]
    ids = [r["document"] for r in results]
    assert set(ids[:3]) == {str(office[n].id) for n in ("public", "internal", "secret")}
    assert str(office["unrelated"].id) not in ids  # not near enough to be a match at all
    assert found(examiner, ANTIBODY)[0] == str(office["unrelated"].id)


def test_a_document_the_caller_may_not_read_never_comes_back(office, settings):
    settings.EDMS_PUBLIC_ACCESS = True
    ids = {name: str(document.id) for name, document in office.items()}
    cases = [
        (UserFactory(role=Role.EXAMINER), {"public", "internal"}),
        (UserFactory(role=Role.RECORDS_CLERK), {"public"}),
        (cleared_examiner(), {"public", "internal", "secret"}),
        (AnonymousUser(), {"public"}),
    ]
    for user, readable in cases:
        near = {i for i in found(user, GEARS) if i != ids["unrelated"]}
        assert near == {ids[name] for name in readable}, user


def test_a_caller_who_reads_little_still_gets_the_nearest_of_it(store):
    """Forty secret near-copies crowd the nearest neighbours; the examiner, who may read none of
    them, still gets the one readable, farther document."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    secret = create_dossier("BG/P/2024/7", published_at=yesterday, secret=True)
    for i in range(40):
        give_text(file_document(secret, type_code="DESC"), f"{GEARS} Variant {i}.")
    readable = file_document(
        create_dossier("BG/P/2023/2", published_at=yesterday), type_code="DESC"
    )
    give_text(readable, "A gearbox whose helical gears are lubricated by an oil pump on the shaft.")
    call_command("similarity", "backfill")
    assert found(UserFactory(role=Role.EXAMINER), GEARS, limit=1) == [str(readable.id)]


def test_the_store_follows_a_new_version_an_expunge_and_a_rebuild(office, store, admin_user):
    _, chosen = store
    document = office["public"]
    staged = blobstore.spool([b"v2"], filename="v2.txt")
    actions.add_version(document, staged, actor=Actor(label="tests"))
    document.refresh_from_db()
    give_text(document, VALVE)
    call_command("similarity", "backfill")
    examiner = cleared_examiner()
    assert found(examiner, VALVE)[0] == str(document.id)
    assert str(document.id) not in found(examiner, GEARS)  # its old passages are gone
    assert chosen.count() == Chunk.objects.count()

    actions.expunge_document(
        document, reason="court order", reference="1/2026", actor=Actor(user=admin_user)
    )
    embedding.embed_document(str(document.id))  # what the expunge's event queues
    assert found(examiner, VALVE) == []
    assert chosen.count() == Chunk.objects.count()

    call_command("similarity", "rebuild")
    assert chosen.count() == Chunk.objects.count() == 3
    assert found(examiner, ANTIBODY)[0] == str(office["unrelated"].id)


@pytest.mark.parametrize("store", ["opensearch"], indirect=True)
def test_the_search_cluster_filters_by_readers_inside_the_query(office, store):
    """The k-NN store itself returns only chunks the principals may read (the embedded one
    cannot: `similarity.dense` widens and checks the database instead)."""
    _, chosen = store
    query = embedder.embed([GEARS])
    today = timezone.localdate()
    examiner = user_principals(UserFactory(role=Role.EXAMINER))
    keys, similarities = chosen.search(query, 10, principals=examiner, today=today)
    owners = set(
        Chunk.objects.filter(id__in=keys[0][keys[0] >= 0]).values_list("document", flat=True)
    )
    assert owners == {office["public"].id, office["internal"].id, office["unrelated"].id}
    assert similarities[0][0] > 0.9
    keys, _ = chosen.search(query, 10, principals=frozenset(), today=today)
    assert (keys == -1).all()  # no principal: nothing at all
    keys, _ = chosen.search(query, 10, principals=None, today=today)
    assert Chunk.objects.get(id=keys[0][0]).document_id in {
        office[n].id for n in ("public", "internal", "secret")
    }


@pytest.mark.parametrize("store", ["opensearch"], indirect=True)
def test_a_change_of_readers_reaches_the_search_cluster(
    office, store, django_capture_on_commit_callbacks
):
    """A document made internal, and a dossier placed under a secrecy order: the readers kept
    beside their chunks follow (the outbox's subscriber queues the refresh), so the filter inside
    the query already leaves them out for the callers who lost them."""
    _, chosen = store
    query = embedder.embed([GEARS])
    today = timezone.localdate()
    clerk = user_principals(UserFactory(role=Role.RECORDS_CLERK))
    examiner = user_principals(UserFactory(role=Role.EXAMINER))

    def owners(principals) -> set:
        keys, _ = chosen.search(query, 10, principals=principals, today=today)
        ids = Chunk.objects.filter(id__in=keys[0][keys[0] >= 0]).values_list("document", flat=True)
        return set(ids)

    assert office["public"].id in owners(clerk)
    assert office["unrelated"].id in owners(examiner)
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    try:
        actions.update_document(
            office["public"], {"visibility": "internal"}, actor=Actor(label="tests")
        )
        actions.upsert_dossier("BG/P/2023/9", {"secret": True}, actor=Actor(label="tests"))
        with django_capture_on_commit_callbacks() as callbacks:
            events.dispatch_events()
        # Only the refresh runs here (eagerly); other subscribers' tasks are not this test's.
        ours = [c for c in callbacks if c.__module__ == "similarity.vector_subscribers"]
        assert len(ours) == 1
        ours[0]()
    finally:
        current_app.conf.task_always_eager = eager
    assert office["public"].id not in owners(clerk)
    assert office["public"].id in owners(examiner)
    assert office["unrelated"].id not in owners(examiner)


def test_a_write_the_search_cluster_missed_is_embedded_again(settings, tmp_path):
    """The database commits first; when the cluster then cannot take the chunks, the task fails
    with an error it retries (an OSError), and the document counts as not embedded, so the retry
    and the backfill embed it again (nothing to start: the port has no server)."""
    settings.EDMS_SIMILARITY_VECTOR_STORE = {
        "BACKEND": STORES["opensearch"],
        "OPTIONS": {"hosts": "http://127.0.0.1:9", "index": "edms-test-nowhere"},
    }
    document = file_document(create_dossier())
    give_text(document, GEARS)
    with pytest.raises(OSError, match="edms-test-nowhere"):
        embedding.embed_document(str(document.id))
    assert list(embedding.documents_to_embed()) == [document.id]
