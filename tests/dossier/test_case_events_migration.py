"""Case events arrive (migration 0010): each dossier published before gets the publication event
its `published_at` stands for, so the date derived from the history stays what it was."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dossier import actions
from dossier.audit import Actor
from dossier.models import Dossier

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("dossier", "0009_expunge")]


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def test_dossiers_published_before_keep_their_publication_through_a_later_withdrawal():
    old = migrate(BEFORE).loader.project_state(BEFORE).apps
    OldDossier = old.get_model("dossier", "Dossier")
    OldDossier.objects.create(
        key="BG/P/2020/1", raw_key="BG/P/2020/1", ip_type="patent", published_at=dt.date(2021, 7, 1)
    )
    OldDossier.objects.create(key="BG/P/2020/2", raw_key="BG/P/2020/2", ip_type="patent")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    published = Dossier.objects.get(key="BG/P/2020/1")
    assert list(published.case_events.values_list("kind", "date", "recorded_by")) == [
        ("publication", dt.date(2021, 7, 1), "migration")
    ]
    assert not Dossier.objects.get(key="BG/P/2020/2").case_events.exists()
    # A withdrawal after that publication leaves the file open, as for any published dossier.
    actions.record_case_event(
        published, kind="withdrawal", date=dt.date(2022, 1, 1), actor=Actor(label="ipas")
    )
    published.refresh_from_db()
    assert published.published_at == dt.date(2021, 7, 1)
