"""Search follows the case events: a publication re-indexes the dossier's documents with the day
the public may read each (outgoing ones from the day after dispatch), and a withdrawal found to
precede it takes them away again, even before the index has caught up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from search import indexer
from search.models import IndexedDocument
from tests.conftest import create_dossier, file_document
from tests.search_support import give_text

pytestmark = pytest.mark.django_db

KEY = "BG/P/2025/000042"
EVENTS = f"/api/v1/dossiers/{KEY}/case-events"


def days_ago(n: int) -> dt.date:
    # Today as the test runs, not as the module was collected: a run across midnight had the
    # documents dated a day off from what the server counts from.
    return timezone.localdate() - dt.timedelta(days=n)


@pytest.fixture
def wrapper(search_backend) -> dict[str, str]:
    dossier = create_dossier(KEY, title="Sprocket drive")
    documents = {
        "claims": file_document(dossier, type_code="CLM", official_date=days_ago(30)),
        "report": file_document(dossier, type_code="SR", official_date=days_ago(1)),
        "action": file_document(dossier, type_code="OA", official_date=days_ago(0)),
    }
    for name, document in documents.items():
        give_text(document, f"sprocket {name}", languages=["en"])
    indexer.sync()
    return {name: str(document.id) for name, document in documents.items()}


def found(client) -> set[str]:
    response = client.get("/api/v1/search", {"q": "sprocket"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"])  # nothing hidden counted either
    return {hit["document"] for hit in body["results"]}


def test_publication_and_a_prior_withdrawal_drive_what_the_public_finds(registry, public, wrapper):
    assert found(public) == set()
    stamps = dict(IndexedDocument.objects.values_list("document_id", "stamp"))

    published = registry.post(
        EVENTS, {"kind": "publication", "date": days_ago(2).isoformat()}, format="json"
    )
    assert published.status_code == 201, published.content
    assert indexer.sync() == 1  # the case event: every document of its dossier is re-read
    assert all(
        stamps[pk] != stamp
        for pk, stamp in IndexedDocument.objects.values_list("document_id", "stamp")
    )
    # The report was sent yesterday: public today. The office action goes out today: tomorrow.
    assert found(public) == {wrapper["claims"], wrapper["report"]}

    # The registry reports late that the application was withdrawn before it was published.
    withdrawn = registry.post(
        EVENTS, {"kind": "withdrawal", "date": days_ago(3).isoformat()}, format="json"
    )
    assert withdrawn.status_code == 201, withdrawn.content
    assert withdrawn.json()["kind"] == "withdrawal"
    assert found(public) == set()  # before the index caught up
    indexer.sync()
    assert found(public) == set()
    assert len(found(registry)) == 3  # staff still find everything
