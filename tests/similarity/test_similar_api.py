"""Similar documents through the API: the hybrid of the engine's more-like-this and dense
embeddings, with a score and the shared passage; what the caller may not read is never returned,
however similar it is."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.roles import Role
from search import indexer
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.redaction_support import text_pdf
from tests.search_support import give_text

pytestmark = pytest.mark.django_db

CLAIM = (
    "1. A bicycle drivetrain comprising a rear sprocket cassette with eleven sprockets, a chain "
    "engaging the sprockets, and a derailleur with a spring-loaded cage that keeps the chain "
    "tensioned while the rider shifts between sprockets under load."
)
DESCRIPTION = (
    "The invention relates to bicycle drivetrains. A cassette of eleven rear sprockets is "
    "engaged by a chain; the derailleur cage is loaded by a spring so that the chain stays "
    "tensioned when the rider shifts gears under load. Earlier derailleurs let the chain slacken."
)
UNRELATED = (
    "A pharmaceutical composition comprising an antibody against interleukin receptors, "
    "formulated as a lyophilised powder for subcutaneous injection in patients with asthma."
)
TRADEMARK = "Word mark ROLLFAST for bicycles and bicycle parts in class 12, filed by Acme."


@pytest.fixture
def similarity_dir(settings, tmp_path):
    settings.EDMS_SIMILARITY_DIR = tmp_path / "similarity"
    return settings.EDMS_SIMILARITY_DIR


@pytest.fixture
def office(search_backend, similarity_dir):
    """A published patent dossier with its claims (public) and description (public); the
    description filed again under a secrecy order and as an internal note; an unrelated dossier;
    all embedded by the backfill and indexed."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    published = create_dossier("BG/P/2023/1", published_at=yesterday)
    secret = create_dossier("BG/P/2024/3", published_at=yesterday, secret=True)
    other = create_dossier("BG/P/2023/9", published_at=yesterday, title="Asthma antibody")
    mark = create_dossier("BG/T/2023/4", ip_type="trademark", published_at=yesterday)
    documents = {
        "claims": file_document(published, type_code="CLM"),
        "description": file_document(published, type_code="DESC"),
        "secret": file_document(secret, type_code="DESC"),
        "internal": file_document(published, type_code="DESC", visibility="internal"),
        "unrelated": file_document(other, type_code="DESC"),
        "mark": file_document(mark, type_code="DESC"),
    }
    texts = {
        "claims": CLAIM,
        "description": DESCRIPTION,
        "secret": DESCRIPTION + " Classified variant for the armed forces.",
        "internal": DESCRIPTION + " Examiner's note: compare with the cited prior art.",
        "unrelated": UNRELATED,
        "mark": TRADEMARK,
    }
    for name, document in documents.items():
        give_text(document, texts[name], languages=["en"])
    indexer.sync()
    call_command("similarity", "backfill")
    return {name: str(document.id) for name, document in documents.items()}


def similar(client, document_id: str, **params) -> list[dict]:
    response = client.get(f"/api/v1/documents/{document_id}/similar", params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_the_description_is_most_like_its_claims_with_the_shared_passage(client, office):
    client.force_login(UserFactory(role=Role.ADMIN))
    results = similar(client, office["claims"])
    ids = [r["document"] for r in results]
    assert office["claims"] not in ids  # never itself
    assert ids[0] in {office["description"], office["secret"], office["internal"]}
    top = results[0]
    assert top["term_score"] is not None and top["dense_score"] is not None
    assert 0 < top["score"] <= 1
    assert "sprocket" in top["reason"]["passage"]
    assert top["reason"]["snippets"] and "<mark>" in top["reason"]["snippets"][0]
    assert (
        ids.index(office["unrelated"]) > ids.index(office["description"])
        if (office["unrelated"] in ids)
        else True
    )
    assert top["dossier"] == "BG/P/2023/1" or top["dossier"] == "BG/P/2024/3"


def test_a_document_the_caller_may_not_read_is_never_similar(client, office):
    # An examiner without clearance never sees the secret dossier; a records clerk never an
    # internal note; the public neither, nor anything of an unpublished dossier.
    cases = [
        (UserFactory(role=Role.EXAMINER), {"secret"}),
        (UserFactory(role=Role.RECORDS_CLERK), {"secret", "internal"}),
    ]
    for user, hidden in cases:
        client.force_login(user)
        for source in ("claims", "description"):
            ids = {r["document"] for r in similar(client, office[source], limit=50)}
            assert office["description" if source == "claims" else "claims"] in ids
            assert not ids & {office[name] for name in hidden}, (user, source)
        response = client.post(
            "/api/v1/search/similar",
            {"text": DESCRIPTION, "limit": 50},
            content_type="application/json",
        )
        ids = {r["document"] for r in response.json()["results"]}
        assert not ids & {office[name] for name in hidden}
    cleared = UserFactory(role=Role.EXAMINER, secret_clearance=True)
    client.force_login(cleared)
    assert office["secret"] in {r["document"] for r in similar(client, office["claims"], limit=50)}


def test_the_public_sees_only_public_documents(public, office):
    response = public.post("/api/v1/search/similar", {"text": CLAIM, "limit": 50}, format="json")
    assert response.status_code == 200, response.content
    ids = {r["document"] for r in response.json()["results"]}
    assert office["description"] in ids
    assert not ids & {office["secret"], office["internal"]}
    assert similar(public, office["claims"])[0]["document"] == office["description"]


def test_a_pasted_claim_finds_its_patent_and_not_the_unrelated_one(client, office):
    client.force_login(UserFactory(role=Role.EXAMINER))
    response = client.post(
        "/api/v1/search/similar",
        {"text": "derailleur spring cage keeps the chain tensioned on the sprockets", "limit": 3},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    ids = [r["document"] for r in response.json()["results"]]
    assert len(ids) <= 3
    assert set(ids[:2]) <= {office["claims"], office["description"], office["internal"]}
    assert office["unrelated"] not in ids


def test_bad_requests_are_problems(client, office):
    client.force_login(UserFactory(role=Role.EXAMINER))
    response = client.post("/api/v1/search/similar", {"text": ""}, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    response = client.get(f"/api/v1/documents/{office['claims']}/similar", {"limit": 500})
    assert response.status_code == 400
    # A document the caller may not read is not found, as everywhere else.
    response = client.get(f"/api/v1/documents/{office['secret']}/similar")
    assert response.status_code == 404


def test_the_public_never_gets_a_passage_of_an_original_it_reads_only_redacted(
    public, examiner, office
):
    actor = Actor(label="tests")
    dossier = create_dossier("BG/P/2023/1")
    request = file_document(
        dossier, text_pdf("Request"), filename="request.pdf", type_code="DESC", visibility="public"
    )
    give_text(request, DESCRIPTION + " Inventor: Ziggy Zanzibarov, 3 Rue des Lilas, Lyon.")
    actions.update_document(request, {"redaction_required": True}, actor=actor)
    version = request.versions.get(number=1)
    copy = blobstore.spool([text_pdf("Inventor: [redacted]")], filename="redacted.pdf")
    actions.store_redacted_copy(version, copy, actor=actor)
    indexer.sync()
    call_command("similarity", "backfill")

    # Staff read the original: its passage is the reason it is like the claims.
    staff = {r["document"]: r for r in similar(examiner, office["claims"], limit=50)}
    assert "Zanzibarov" in staff[str(request.id)]["reason"]["passage"]
    # The public reads it (through the copy) but never the original's words.
    response = public.get(f"/api/v1/documents/{office['claims']}/similar", {"limit": 50})
    assert response.status_code == 200
    assert "Zanzibarov" not in response.content.decode()
    response = public.post("/api/v1/search/similar", {"text": DESCRIPTION}, format="json")
    assert response.status_code == 200
    assert "Zanzibarov" not in response.content.decode()
    assert office["description"] in {r["document"] for r in response.json()["results"]}


def test_the_queries_do_not_grow_with_the_results(examiner, office, django_assert_max_num_queries):
    def queries_for(limit: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert similar(examiner, office["claims"], limit=limit)
        return len(captured)

    # No query per result: fifty results cost what one does, plus at most a widening round of
    # the dense search (two queries: the chunks' owners, the permission check).
    similar(examiner, office["claims"])  # the first call also opens the vector index
    one, many = queries_for(1), queries_for(50)
    assert one <= many <= one + 2
    with django_assert_max_num_queries(15):
        similar(examiner, office["claims"], limit=50)
