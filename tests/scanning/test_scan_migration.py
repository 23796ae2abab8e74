"""Scanning moved out of `ingest` into an app of its own: a database migrated before the move
keeps its scan batches and parts (same tables, state-only migrations), on SQLite and PostgreSQL."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from scanning.models import BatchState, PartState, ScanBatch, ScanPart

# Serialized rollback: the flush after it then leaves the content types to the next test
# instead of re-creating them with new ids (which a later serialized-rollback test trips on).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE_THE_MOVE = [("ingest", "0008_renditions_after_text"), ("scanning", None)]


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def test_scan_rows_written_before_the_move_are_read_by_the_scanning_app():
    old = migrate(BEFORE_THE_MOVE).loader.project_state(BEFORE_THE_MOVE[:1]).apps
    blob = old.get_model("dossier", "Blob").objects.create(
        sha256="a" * 64, size=3, media_type="application/pdf"
    )
    batch_id, part_id = uuid.uuid4(), uuid.uuid4()
    old.get_model("ingest", "ScanBatch").objects.create(
        id=batch_id, state="qc", source=blob, source_filename="tray-1.pdf", pages_in=2
    )
    old.get_model("ingest", "ScanPart").objects.create(
        id=part_id, batch_id=batch_id, index=0, state="unassigned", content=blob, page_count=2
    )

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    batch = ScanBatch.objects.get(id=batch_id)
    assert (batch.state, batch.source_filename, batch.pages_in) == (BatchState.QC, "tray-1.pdf", 2)
    assert list(batch.parts.values_list("id", "state")) == [(part_id, PartState.UNASSIGNED)]
    assert ScanPart.objects.get(id=part_id).content_id == "a" * 64
