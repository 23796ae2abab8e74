"""Expunge: a document's content, text and renditions leave the blob store for good, unless a
live version still uses the same blob; the version rows stay as tombstones; search, packages
and fixity know. Runs on the configured blob backend (the filesystem, or S3 in CI's S3 leg)."""

from __future__ import annotations

import os
from io import StringIO

import pytest
from django.core.management import call_command

from dossier import actions, blobstore, fixity, packages
from dossier.actions import InvalidChange
from dossier.audit import Actor
from dossier.blobbackends import blob_backend
from dossier.models import AuditEvent, Blob, Document, Event, EventKind, Rendition, Version
from dossier.processing_facts import ProcessingFacts, record_processing_facts, record_rendition
from search import find, indexer
from tests.conftest import file_document, make_user
from tests.search_support import give_text

ACTOR = Actor(label="data protection officer")
ORDER = {"reason": "court order: papers of another applicant", "reference": "Case 12/2026"}


def store(content: bytes, filename: str = "x.bin") -> Blob:
    return Blob.objects.store(blobstore.spool([content], filename=filename))


def processed(version: Version, text: bytes, thumbnail: bytes) -> tuple[Blob, Blob]:
    """Leave `version` with a text and a thumbnail, as processing records them."""
    text_blob = store(text, "text.txt")
    record_processing_facts(version.id, ProcessingFacts(text_sha256=text_blob.sha256))
    thumbnail_blob = store(thumbnail, "page-1.png")
    record_rendition(version, "thumbnail", thumbnail_blob, "image/png")
    return text_blob, thumbnail_blob


@pytest.fixture
def document(dossier):
    return file_document(dossier, os.urandom(500), filename="wrong applicant.pdf")


def test_expunge_removes_content_text_and_renditions_and_keeps_the_tombstone(document):
    version = Version.objects.get(document=document, number=1)
    text, thumbnail = processed(version, b"personal data of someone else", os.urandom(80))
    digests = [version.blob_id, text.sha256, thumbnail.sha256]
    assert all(blobstore.exists(d) for d in digests)

    (expunged,) = actions.expunge_document(document, actor=ACTOR, **ORDER)

    assert expunged.number == 1
    assert not any(blobstore.exists(d) for d in digests)
    assert Blob.objects.filter(pk__in=digests, expunged_at__isnull=False).count() == 3
    tombstone = Version.objects.get(pk=version.pk)
    assert tombstone.blob_id == digests[0]  # the digest stays
    assert tombstone.expunged_at is not None
    assert tombstone.expunge_reason == ORDER["reason"]
    assert tombstone.expunge_reference == ORDER["reference"]
    assert tombstone.text_id is None
    assert not Rendition.objects.filter(version=version).exists()
    assert Document.objects.get(pk=document.pk).expunged_at is not None

    audit = AuditEvent.objects.get(action="document.expunge")
    assert audit.actor_label == "data protection officer"
    assert audit.detail["versions"] == [1]
    assert audit.detail["sha256"] == {"1": digests[0]}
    assert audit.detail["reference"] == "Case 12/2026"
    event = Event.objects.get(kind=EventKind.DOCUMENT_EXPUNGED)
    assert event.document_id == document.id
    assert event.payload["versions"] == [1] and event.payload["all"] is True


def test_expunge_records_the_administrator_who_did_it(document):
    admin = make_user("ada", is_superuser=True)
    actions.expunge_document(document, actor=Actor(user=admin), **ORDER)
    assert Version.objects.get(document=document, number=1).expunged_by == admin


def test_a_blob_shared_with_a_live_version_is_kept(dossier):
    shared = os.urandom(300)
    wrong = file_document(dossier, shared, filename="copy.pdf")
    kept = file_document(dossier, shared, filename="original.pdf")
    kept_version = Version.objects.get(document=kept, number=1)
    wrong_version = Version.objects.get(document=wrong, number=1)
    assert kept_version.blob_id == wrong_version.blob_id

    actions.expunge_document(wrong, actor=ACTOR, **ORDER)

    assert blobstore.exists(kept_version.blob_id)
    assert Blob.objects.get(pk=kept_version.blob_id).expunged_at is None
    content = b"".join(blobstore.read_verified(kept_version.blob_id, len(shared)))
    assert content == shared
    assert Version.objects.get(pk=wrong_version.pk).expunged_at is not None


def test_only_the_versions_named_are_expunged(document):
    second = os.urandom(200)
    actions.add_version(document, blobstore.spool([second], filename="v2.pdf"), actor=ACTOR)
    first = Version.objects.get(document=document, number=1)

    actions.expunge_document(document, actor=ACTOR, versions=[1], **ORDER)

    assert not blobstore.exists(first.blob_id)
    v2 = Version.objects.get(document=document, number=2)
    assert v2.expunged_at is None and blobstore.exists(v2.blob_id)
    assert Document.objects.get(pk=document.pk).expunged_at is None
    # Expunging again is a no-op for what is gone already.
    assert actions.expunge_document(document, actor=ACTOR, versions=[1], **ORDER) == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reason": " ", "reference": "Case 1"}, "reason"),
        ({"reason": "order", "reference": ""}, "reference"),
        ({**ORDER, "versions": [1, 7]}, "versions"),
        ({**ORDER, "versions": []}, "versions"),
    ],
)
def test_refused_requests_change_nothing(document, fields, field):
    version = Version.objects.get(document=document, number=1)
    with pytest.raises(InvalidChange) as refused:
        actions.expunge_document(document, actor=ACTOR, **fields)
    assert refused.value.field == field
    assert blobstore.exists(version.blob_id)
    assert Version.objects.get(pk=version.pk).expunged_at is None
    assert not Event.objects.filter(kind=EventKind.DOCUMENT_EXPUNGED).exists()


def test_fixity_knows_expunged_blobs_are_gone_on_purpose(document):
    version = Version.objects.get(document=document, number=1)
    actions.expunge_document(document, actor=ACTOR, **ORDER)

    assert [p for _, p in fixity.check_all() if p is not None] == []
    assert fixity.check_blob(Blob.objects.get(pk=version.blob_id)) is None
    assert Blob.objects.get(pk=version.blob_id).corrupt_since is None
    out = StringIO()
    call_command("fixity", stdout=out, stderr=StringIO())  # raises on a bad blob
    assert "0 bad, 1 expunged (not checked)" in out.getvalue()
    assert not Event.objects.filter(kind=EventKind.BLOB_CORRUPTED).exists()


def test_an_expunged_document_leaves_packages(dossier, document):
    other = file_document(dossier, os.urandom(100), filename="kept.pdf")
    actions.expunge_document(document, actor=ACTOR, **ORDER)
    admin = make_user("root", is_superuser=True)
    selection = packages.select_documents(admin, dossier)
    assert [d.id for d in selection.active] == [other.id]
    assert [
        v.document_id for v in packages.select_versions([document, other], all_versions=True)
    ] == [other.id]


def test_the_same_bytes_filed_again_are_stored_again(dossier, document):
    content = b"".join(
        blobstore.read_verified(Version.objects.get(document=document, number=1).blob_id, 500)
    )
    actions.expunge_document(document, actor=ACTOR, **ORDER)
    refiled = file_document(dossier, content, filename="properly filed.pdf")
    version = Version.objects.get(document=refiled, number=1)
    assert blobstore.exists(version.blob_id)
    assert Blob.objects.get(pk=version.blob_id).expunged_at is None


def test_the_index_no_longer_finds_an_expunged_document(search_backend, dossier, document):
    give_text(document, "Zanzibar sprocket of another applicant", languages=["en"])
    indexer.sync()
    admin = make_user("root", is_superuser=True)
    assert _found(admin, "zanzibar") == {str(document.id)}

    actions.expunge_document(document, actor=ACTOR, **ORDER)
    indexer.sync()

    assert _found(admin, "zanzibar") == set()
    assert _found(admin, "type:CLM") == set()
    assert indexer.reconcile(repair=False).clean


def _found(user, q: str) -> set[str]:
    return {r["document"] for r in find.find_documents(user, find.Criteria(q=q))["results"]}


def test_what_processing_finishes_after_an_expunge_is_discarded(
    document, django_capture_on_commit_callbacks
):
    version = Version.objects.get(document=document, number=1)
    actions.expunge_document(document, actor=ACTOR, **ORDER)
    text = store(b"text extracted just before the expunge", "text.txt")
    thumbnail = store(os.urandom(70), "page-1.png")

    with django_capture_on_commit_callbacks(execute=True):
        record_processing_facts(version.id, ProcessingFacts(text_sha256=text.sha256))
        assert record_rendition(version, "thumbnail", thumbnail, "image/png") is None

    assert Version.objects.get(pk=version.pk).text_id is None
    assert not Rendition.objects.filter(version=version).exists()
    assert not blobstore.exists(text.sha256)
    assert not blobstore.exists(thumbnail.sha256)
    assert [p for _, p in fixity.check_all() if p is not None] == []


def test_fixity_still_watches_a_blob_an_expunged_version_shared_with_a_live_one(dossier):
    """The shared content stays and stays checked: verified while intact, reported missing if
    it goes (it was not removed on purpose); only what the expunge removed is not checked."""
    shared = os.urandom(300)
    wrong = file_document(dossier, shared, filename="copy.pdf")
    kept = file_document(dossier, shared, filename="original.pdf")
    wrong_version = Version.objects.get(document=wrong, number=1)
    text_blob, thumbnail_blob = processed(wrong_version, b"its own text", os.urandom(90))
    actions.expunge_document(wrong, actor=ACTOR, **ORDER)
    content = Blob.objects.get(pk=wrong_version.blob_id)
    assert content.expunged_at is None
    assert (
        Blob.objects.filter(
            pk__in=[text_blob.sha256, thumbnail_blob.sha256], expunged_at__isnull=False
        ).count()
        == 2
    )

    out = StringIO()
    call_command("fixity", stdout=out, stderr=StringIO())
    assert "1 blob(s) checked, 1 ok, 0 bad, 2 expunged (not checked)" in out.getvalue()
    assert Blob.objects.get(pk=content.pk).verified_at is not None

    blob_backend().delete(content.sha256)  # lost by the store: not on purpose
    problems = {blob.sha256: p for blob, p in fixity.check_all() if p is not None}
    assert list(problems) == [content.sha256]
    assert problems[content.sha256].problem == "missing"
    assert Blob.objects.get(pk=content.pk).corrupt_since is not None
    # Announced for the live version only: the tombstone's content is gone on purpose.
    announced = Event.objects.filter(kind=EventKind.BLOB_CORRUPTED)
    assert [e.document_id for e in announced] == [kept.id]


def test_a_reader_that_finds_expunged_content_gone_marks_nothing_corrupt(document):
    """Processing or a download that opened the version just before the expunge finds the
    content gone: that is no damage, and nothing is announced."""
    blob = Blob.objects.get(pk=Version.objects.get(document=document, number=1).blob_id)
    actions.expunge_document(document, actor=ACTOR, **ORDER)

    with pytest.raises(blobstore.BlobMissing):
        list(fixity.read_content(blob))

    assert Blob.objects.get(pk=blob.pk).corrupt_since is None
    assert not Event.objects.filter(kind=EventKind.BLOB_CORRUPTED).exists()
