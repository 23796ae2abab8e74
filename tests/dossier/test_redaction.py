"""The redacted-copy action and the access rule it drives, without HTTP."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from dossier import access, actions, blobstore
from dossier.actions.errors import ContentExpunged, DocumentCancelledError, InvalidChange
from dossier.models import Document, Rendition, RenditionKind
from tests.conftest import create_dossier, file_document
from tests.redaction_support import text_pdf

ORIGINAL = text_pdf("Applicant Zanzibarov")
REDACTED = text_pdf("Applicant [redacted]")


@pytest.fixture
def document(db):
    dossier = create_dossier(published_at=dt.date(2024, 1, 1))
    return file_document(dossier, ORIGINAL, filename="request.pdf", visibility="public")


def staged(content: bytes, filename: str = "redacted.pdf"):
    return blobstore.spool([content], filename=filename)


def test_the_copy_and_its_own_text_are_stored_and_the_document_revised(document, system_actor):
    version = document.versions.get(number=1)
    rendition = actions.store_redacted_copy(version, staged(REDACTED), actor=system_actor)
    assert rendition.kind == RenditionKind.REDACTED
    assert rendition.blob_id == hashlib.sha256(REDACTED).hexdigest()
    text = Rendition.objects.get(version=version, kind=RenditionKind.REDACTED_TEXT)
    assert b"".join(blobstore.read_chunks(text.blob_id)) == b"Applicant [redacted]"
    assert Document.objects.get(pk=document.pk).revision == document.revision + 1
    assert version.blob_id == hashlib.sha256(ORIGINAL).hexdigest()  # the original stays


@pytest.mark.parametrize(
    "content",
    [b"plain words, no PDF", text_pdf("Zanzibarov", unapplied_redaction=True)],
)
def test_what_is_no_flattened_pdf_is_refused(document, system_actor, content):
    version = document.versions.get(number=1)
    with pytest.raises(InvalidChange):
        actions.store_redacted_copy(version, staged(content, "x.pdf"), actor=system_actor)
    assert not Rendition.objects.filter(version=version).exists()


def test_a_cancelled_document_or_an_expunged_version_takes_no_copy(document, system_actor):
    version = document.versions.get(number=1)
    actions.cancel_document(document, reason="filed twice", actor=system_actor)
    with pytest.raises(DocumentCancelledError):
        actions.store_redacted_copy(version, staged(REDACTED), actor=system_actor)
    other = file_document(document.dossier, ORIGINAL, filename="b.pdf", visibility="public")
    actions.expunge_document(other, reason="court", reference="1/2026", actor=system_actor)
    with pytest.raises(ContentExpunged):
        actions.store_redacted_copy(
            other.versions.get(number=1), staged(REDACTED), actor=system_actor
        )


def test_access_and_the_index_readers_agree_on_redaction_required(document, system_actor):
    def public_sees() -> bool:
        return access.visible_documents(None).filter(pk=document.pk).exists()

    def index_public() -> bool:
        reloaded = Document.objects.select_related("dossier").get(pk=document.pk)
        return access.PUBLIC in access.document_readers(reloaded).principals

    assert public_sees() and index_public()
    actions.update_document(document, {"redaction_required": True}, actor=system_actor)
    assert not public_sees() and not index_public()
    version = document.versions.get(number=1)
    actions.store_redacted_copy(version, staged(REDACTED), actor=system_actor)
    assert public_sees() and index_public()
