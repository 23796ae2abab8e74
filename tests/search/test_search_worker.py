"""End to end through real processes: a document uploaded over the API becomes findable by a
word of its text, with no call to the indexer from the test.

The chain: the upload commits `document.registered`; after commit the web process hands it to
ingestion's subscriber, which queues the extraction; a real Celery worker (consuming `celery`,
`extract`, `interactive` and `index`, the one-machine default's queues) extracts the text and
appends `document.processed`; after that commit the worker hands it to the search subscriber,
which wakes the `index` queue's consumer, which writes the index this process then searches.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.services import running_worker, wait_until

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DOSSIER_KEY = "BG/P/2024/7788"
FIND_TIMEOUT = 90.0


@pytest.fixture
def index_path(tmp_path_factory):
    return tmp_path_factory.mktemp("search-index")


# For the test only, not the module: it stops before the test's database is flushed (a worker
# still writing can deadlock PostgreSQL's TRUNCATE; see tests/scanning/test_scan_worker.py).
@pytest.fixture
def search_worker(django_db_setup, tmp_path_factory, index_path):
    with running_worker(
        tmp_path_factory.mktemp("celery") / "worker.log",
        queues=["celery", "extract", "interactive", "index"],
        env={"EDMS_SEARCH_PATH": str(index_path)},
    ) as worker:
        yield worker


def test_an_uploaded_document_becomes_findable_by_its_text(
    settings, index_path, search_worker, registry, examiner
):
    settings.EDMS_SEARCH = {
        "BACKEND": "search.backends.embedded.Backend",
        "OPTIONS": {"path": str(index_path)},
    }
    created = registry.put(
        f"/api/v1/dossiers/{DOSSIER_KEY}",
        {"ip_type": "patent", "title": "Escapement for a clock"},
        format="json",
    )
    assert created.status_code == 201, created.content
    text = "The escapement wheel engages the pallet fork; the balance spring keeps time."
    upload = SimpleUploadedFile("description.txt", text.encode(), content_type="text/plain")
    filed = registry.post(
        f"/api/v1/dossiers/{DOSSIER_KEY}/documents",
        {"type": "DESC", "file": upload},
        format="multipart",
    )
    assert filed.status_code == 201, filed.content
    document_id = filed.json()["id"]

    def findable():
        search_worker.assert_alive()
        response = examiner.get("/api/v1/search", {"q": "pallet"})
        if response.status_code != 200:  # the index may not exist before the first write
            return None
        results = response.json()["results"]
        return results if results else None

    results = wait_until(
        findable,
        timeout=FIND_TIMEOUT,
        what="the uploaded document to be indexed with its text",
        explain=search_worker.log_tail,
    )
    assert [r["document"] for r in results] == [document_id]
    assert "<mark>pallet</mark>" in results[0]["snippets"][0]
    status = examiner.get("/api/v1/search/status").json()
    assert status["engine"]["documents"] == 1
