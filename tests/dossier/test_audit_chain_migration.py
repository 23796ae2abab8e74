"""Audit rows written before the chain existed join it in the order they were written
(dossier 0016_audit_chain), on SQLite and PostgreSQL, and the chain they form verifies."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dossier.models import AuditChainHead, AuditEvent

# Serialized rollback, as the other migration tests: the flush after it leaves the content
# types to the next test instead of re-creating them with new ids.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("dossier", "0015_feed_exclusion_indexes")]


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor


def test_rows_written_before_are_chained_by_id():
    old = migrate(BEFORE).loader.project_state(BEFORE).apps
    OldEvent = old.get_model("dossier", "AuditEvent")
    User = old.get_model("auth", "User")
    clerk = User.objects.create(username="clerk-before")
    at = dt.datetime(2024, 3, 4, 10, 0, tzinfo=dt.UTC)
    written = [
        OldEvent.objects.create(
            actor=clerk if n % 2 else None,
            actor_label="clerk-before" if n % 2 else "system",
            action="document.download",
            object_type="document",
            object_id=str(n),
            dossier_key="BG/P/2024/1",
            client_address="203.0.113.9" if n % 2 else None,
            detail={"version": n},
        ).pk
        for n in range(5)
    ]
    # `at` was `auto_now_add`: set afterwards, all in the same second (ties kept by id).
    OldEvent.objects.update(at=at)
    migrate(None)

    rows = list(AuditEvent.objects.filter(pk__in=written).order_by("seq"))
    assert [row.pk for row in rows] == written
    assert [row.seq for row in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == "" and rows[1].prev_hash == rows[0].row_hash
    assert rows[1].actor_ref == str(clerk.pk) and rows[0].actor_ref == ""
    assert AuditChainHead.objects.get(pk=1).seq == 5
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "audit chain holds: 5 rows" in out.getvalue()
