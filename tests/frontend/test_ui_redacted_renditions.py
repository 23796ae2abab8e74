"""The viewer's rendition links for a document the public reads through its redacted copy: the
public is pointed at the copy, never at processing's PDF/A or thumbnail (they show the original
and answer the public 404: broken links and images); staff keep every link."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import RenditionKind
from dossier.roles import Role
from ingest import render
from ingest.renditions import save_rendition
from tests.conftest import create_dossier, file_document, make_user
from tests.redaction_support import text_pdf

pytestmark = pytest.mark.django_db

ORIGINAL = text_pdf("Applicant Zanzibarov, Sofia", "A widget with a handle")
REDACTED = text_pdf("Applicant [redacted]", "A widget with a handle")


@pytest.fixture
def document(tmp_path):
    """A public document of a published dossier with processing's PDF/A and thumbnail."""
    dossier = create_dossier("BG/P/2024/000123", title="Widget")
    actions.record_case_event(
        dossier, kind="publication", date=dt.date(2024, 1, 1), actor=Actor(label="tests")
    )
    document = file_document(dossier, ORIGINAL, filename="request.pdf", visibility="public")
    version = document.versions.get(number=1)
    original, png = tmp_path / "request.pdf", tmp_path / "page-1.png"
    original.write_bytes(ORIGINAL)
    render.thumbnail(
        path=str(original), media_type="application/pdf", output_path=str(png), width=80
    )
    save_rendition(version, RenditionKind.THUMBNAIL, str(png), "image/png", "page-1.png")
    save_rendition(version, RenditionKind.PDFA, str(original), "application/pdf", "pdfa.pdf")
    return document


def rendition_links(client: Client, document) -> set[str]:
    """The kinds of the rendition links of the viewer page as `client` sees it."""
    page = client.get(f"/documents/{document.id}")
    assert page.status_code == 200
    prefix = f"/api/v1/documents/{document.id}/versions/1/renditions/"
    return set(re.findall(re.escape(prefix) + r"(\w+)", page.content.decode()))


def staff() -> Client:
    client = Client()
    client.force_login(make_user("erika", Role.EXAMINER))
    return client


def test_the_public_is_pointed_at_the_copy_and_staff_at_everything(document):
    public = Client()
    # Without a copy the public reads the original: its renditions are its to see.
    assert rendition_links(public, document) == {"pdfa", "thumbnail"}

    staged = blobstore.spool([REDACTED], filename="request.redacted.pdf")
    actions.store_redacted_copy(document.versions.get(number=1), staged, actor=Actor(label="tests"))
    links = rendition_links(public, document)
    assert links == {"redacted", "redacted_text"}
    # Every link the public is given answers it.
    for kind in links:
        response = public.get(f"/api/v1/documents/{document.id}/versions/1/renditions/{kind}")
        assert response.status_code == 200, kind
    assert rendition_links(staff(), document) == {
        "pdfa",
        "thumbnail",
        "redacted",
        "redacted_text",
    }
