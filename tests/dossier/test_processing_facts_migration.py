"""What processing found became domain facts on the version (issue 13): a database processed
before keeps what its versions showed (filled from ingest's processing rows, the text only of
a run that finished done) and its renditions (same table, now dossier's), on SQLite and
PostgreSQL."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dossier.models import Rendition, Version
from search import documents as search_documents

# Serialized rollback, as the other migration tests: the flush after it leaves the content
# types to the next test instead of re-creating them with new ids.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("ingest", "0009_scanning_moves_out"), ("dossier", "0006_event_lane")]


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor


def test_versions_processed_before_keep_their_facts_and_renditions():
    old = migrate(BEFORE).loader.project_state(BEFORE).apps
    Blob = old.get_model("dossier", "Blob")
    original = Blob.objects.create(sha256="a" * 64, size=3, media_type="application/pdf")
    text = Blob.objects.create(sha256="b" * 64, size=5, media_type="text/plain; charset=utf-8")
    thumbnail = Blob.objects.create(sha256="c" * 64, size=7, media_type="image/png")
    dossier = old.get_model("dossier", "Dossier").objects.create(
        key="BG/P/2024/1", raw_key="BG/P/2024/1", ip_type="patent"
    )
    doc_type = old.get_model("dossier", "DocumentType").objects.order_by("code").first()
    Document = old.get_model("dossier", "Document")
    OldVersion = old.get_model("dossier", "Version")
    Processing = old.get_model("ingest", "Processing")
    versions = {}
    for outcome in ("done", "failed", "running"):
        document = Document.objects.create(
            dossier=dossier,
            doc_type=doc_type,
            direction="in",
            visibility="public",
            latest_version=1,
        )
        versions[outcome] = OldVersion.objects.create(
            document=document, number=1, blob=original, filename="a.pdf", media_type="x/y"
        )
        Processing.objects.create(
            version=versions[outcome],
            state=outcome,
            media_type="application/pdf",
            page_count=3,
            languages=["fr", "en"],
            metadata={"title": outcome, "pdfa": False},
            text=text,
            text_chars=5,
        )
    old.get_model("ingest", "Rendition").objects.create(
        version=versions["done"], kind="thumbnail", blob=thumbnail, media_type="image/png"
    )
    unprocessed = OldVersion.objects.create(
        document=versions["done"].document, number=2, blob=original, filename="b.pdf"
    )

    migrate(None)

    for outcome, old_version in versions.items():
        version = Version.objects.get(pk=old_version.pk)
        found = (version.detected_media_type, version.page_count, version.languages)
        assert found == ("application/pdf", 3, ["fr", "en"]), outcome
        assert version.metadata == {"title": outcome, "pdfa": False}
        # Only a run that finished done left a text to search.
        assert version.text_id == ("b" * 64 if outcome == "done" else None), outcome
    untouched = Version.objects.get(pk=unprocessed.pk)
    assert (untouched.detected_media_type, untouched.page_count, untouched.text_id) == (
        "",
        None,
        None,
    )
    assert (untouched.languages, untouched.metadata) == ([], {})

    (rendition,) = Rendition.objects.all()
    assert (rendition.version_id, rendition.kind, rendition.blob_id) == (
        versions["done"].pk,
        "thumbnail",
        "c" * 64,
    )
    assert ContentType.objects.get_for_model(Rendition).app_label == "dossier"
    assert not ContentType.objects.filter(app_label="ingest", model="rendition").exists()

    # Search finds the done version's text on the version itself.
    (source,) = search_documents.load_sources([str(versions["done"].document_id)])
    assert source.text_sha256 == "b" * 64
