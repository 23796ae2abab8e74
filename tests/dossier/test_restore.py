"""Restoring an older version: the next version on the same blob, audited with a reason and
announced like any new version."""

from __future__ import annotations

import pytest

from dossier import actions, blobstore
from dossier.actions import DocumentCancelledError, InvalidChange
from dossier.audit import Actor
from dossier.models import AuditEvent, Blob, Event, EventKind, Version
from tests.conftest import file_document

ACTOR = Actor(label="clerk")


@pytest.fixture
def document(dossier):
    document = file_document(dossier, b"first wording", filename="claims-v1.txt")
    actions.add_version(
        document, blobstore.spool([b"second wording"], filename="v2.txt"), actor=ACTOR
    )
    document.refresh_from_db()
    return document


def test_restore_makes_the_next_version_on_the_same_blob(document):
    first = Version.objects.get(document=document, number=1)
    blobs_before = Blob.objects.count()

    restored = actions.restore_version(first, reason="v2 was filed by mistake", actor=ACTOR)

    assert restored.number == 3
    assert restored.blob_id == first.blob_id  # the same row: no bytes copied
    assert restored.filename == "claims-v1.txt"
    assert Blob.objects.count() == blobs_before
    document.refresh_from_db()
    assert document.latest_version == 3
    assert b"".join(blobstore.read_verified(restored.blob_id, restored.blob.size)) == (
        b"first wording"
    )


def test_restore_is_audited_with_its_reason_and_announced(document):
    first = Version.objects.get(document=document, number=1)
    actions.restore_version(first, reason="  v2 was filed by mistake ", actor=ACTOR)

    audit = AuditEvent.objects.get(action="document.restore")
    assert audit.actor_label == "clerk"
    assert audit.detail == {
        "version": 3,
        "restored_from": 1,
        "sha256": first.blob_id,
        "reason": "v2 was filed by mistake",
    }
    event = Event.objects.filter(kind=EventKind.VERSION_ADDED).order_by("-id").first()
    assert event.version == 3
    assert event.payload["restoredFrom"] == 1
    assert event.payload["sha256"] == first.blob_id


def test_restore_needs_a_reason(document):
    first = Version.objects.get(document=document, number=1)
    with pytest.raises(InvalidChange) as refused:
        actions.restore_version(first, reason="  ", actor=ACTOR)
    assert refused.value.field == "reason"
    assert Version.objects.filter(document=document).count() == 2


def test_a_cancelled_document_refuses_a_restore(document):
    actions.cancel_document(document, reason="duplicate", actor=ACTOR)
    first = Version.objects.get(document=document, number=1)
    with pytest.raises(DocumentCancelledError):
        actions.restore_version(first, reason="want it back", actor=ACTOR)
    assert Version.objects.filter(document=document).count() == 2
    assert not AuditEvent.objects.filter(action="document.restore").exists()
