"""Highlights get their boxes (migration 0002): one made before, with only its `rect`, covers
that area as its one box; a note gets none."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from annotations.models import Annotation
from dossier.models import Version
from tests.conftest import create_dossier, file_document, make_user

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("annotations", "0001_initial")]


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def test_a_highlight_made_before_covers_its_area_and_a_note_nothing():
    author = make_user("erika")
    document = file_document(create_dossier("BG/P/2024/7070"), b"claims", type_code="CLM")
    version = Version.objects.get(document=document)

    old = migrate(BEFORE).loader.project_state(BEFORE).apps
    OldAnnotation = old.get_model("annotations", "Annotation")
    common = {"document_id": document.id, "version_id": version.pk, "author_id": author.pk}
    highlight = OldAnnotation.objects.create(
        page=1, kind="highlight", rect=[0.1, 0.2, 0.6, 0.25], **common
    )
    note = OldAnnotation.objects.create(
        page=1, kind="note", rect=[0.3, 0.3, 0.3, 0.3], text="see D1", **common
    )

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert Annotation.objects.get(pk=highlight.pk).rects == [[0.1, 0.2, 0.6, 0.25]]
    assert (Annotation.objects.get(pk=note.pk).rects, Annotation.objects.get(pk=note.pk).quote) == (
        [],
        "",
    )
