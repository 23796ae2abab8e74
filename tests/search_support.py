"""Pytest plugin for the search tests: a fresh index per test, and ways to give documents text.

- `search_backend`: the embedded engine on an index of the test's own (settings point at it).
- `index_doc`: an `IndexDocument` with sensible defaults, for the engine contract tests.
- `give_text`: a version's text as ingestion would leave it (text blob, processing done,
  `document.processed` in the outbox), without running an extractor.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import uuid

import pytest

from dossier.access import PUBLIC
from dossier.models import Document, Version
from ingest import pipeline
from ingest.models import Processing, State
from search.backends import IndexDocument, build
from search.backends.base import SearchBackend

EMBEDDED = "search.backends.embedded.Backend"
ELASTICSEARCH = "search.backends.elasticsearch.Backend"
OPENSEARCH = "search.backends.opensearch.Backend"


def cluster_url(name: str) -> str:
    """The cluster a test engine runs on. OpenSearch's may be named for the tests alone
    (EDMS_TEST_OPENSEARCH_URL: CI's leg 2 runs the contract suite on it, edms itself keeps its
    engine); OPENSEARCH_URL, which switches edms itself, counts too."""
    if name == "opensearch":
        return os.environ.get("EDMS_TEST_OPENSEARCH_URL") or os.environ.get("OPENSEARCH_URL", "")
    return os.environ.get("ELASTICSEARCH_URL", "")


CLUSTERS = {"elasticsearch": ELASTICSEARCH, "opensearch": OPENSEARCH}


def backend_configs(tmp_path) -> dict[str, dict]:
    """Every engine configured here: the embedded one always, a cluster when its URL is set."""
    configs = {"embedded": {"BACKEND": EMBEDDED, "OPTIONS": {"path": str(tmp_path / "search")}}}
    for name, backend in CLUSTERS.items():
        if cluster_url(name):
            configs[name] = {
                "BACKEND": backend,
                "OPTIONS": {
                    "hosts": cluster_url(name),
                    "index_prefix": f"edms-test-{uuid.uuid4().hex[:8]}",
                    "refresh": True,
                },
            }
    return configs


# OpenSearch always appears, skipped when no node is named (CI's leg 2 fails on that skip);
# Elasticsearch only where a cluster is named (no Elasticsearch server can be started here).
ENGINES = ["embedded", "opensearch", *(["elasticsearch"] if cluster_url("elasticsearch") else [])]


@pytest.fixture
def search_backend(settings, tmp_path) -> SearchBackend:
    """The embedded engine on a fresh index, configured as the active one."""
    config = backend_configs(tmp_path)["embedded"]
    settings.EDMS_SEARCH = config
    backend = build(config)
    backend.reset()
    return backend


def index_doc(**fields) -> IndexDocument:
    defaults = {
        "id": str(uuid.uuid4()),
        "stamp": "1",
        "version": 1,
        "dossier": "BG/P/2024/123",
        "dossier_title": "Widget",
        "ip_type": "patent",
        "status": "filed",
        "applicants": ["Acme Corp"],
        "type": "CLM",
        "direction": "in",
        "official_date": dt.date(2024, 3, 1),
        "language": "en",
        "analysis_languages": ["en"],
        "title": "Claims",
        "state": "active",
        "text": "",
        "meta": "Widget BG/P/2024/123 Acme Corp",
        "principals": ["role:admin", "role:examiner", PUBLIC],
        "public_from": dt.date(2024, 1, 1),
    }
    return IndexDocument(**(defaults | fields))


def give_text(document: Document, text: str, *, languages: list[str] | None = None) -> None:
    """Leave the document's latest version processed with `text`, as ingestion does."""
    version = Version.objects.get(document=document, number=document.latest_version)
    processing, _ = Processing.objects.get_or_create(version=version)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write(text)
    try:
        processing.text = pipeline.store_text(f.name)
    finally:
        os.unlink(f.name)
    processing.text_chars = len(text)
    processing.languages = languages or []
    processing.save()
    pipeline._finish(processing, State.DONE, "")
