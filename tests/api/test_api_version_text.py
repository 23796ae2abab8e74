"""`GET /api/v1/documents/{id}/versions/{n}/text`: the extracted text, read and audited like a
download, its answers and problems as the OpenAPI schema says."""

from __future__ import annotations

import pytest

from dossier.models import AuditEvent
from tests.conftest import file_document
from tests.search_support import give_text

pytestmark = pytest.mark.django_db

TEMPLATE = "/api/v1/documents/{document_id}/versions/{number}/text"
TEXT = "1. A widget with a handle."


def text_url(document, number: int = 1) -> str:
    return f"/api/v1/documents/{document.id}/versions/{number}/text"


def test_the_text_is_served_audited_and_conforms(registry, dossier, conforms):
    document = file_document(dossier, b"%PDF-1.4 claims", filename="claims.pdf")
    give_text(document, TEXT)

    response = registry.get(text_url(document))
    assert response.status_code == 200
    conforms(response, TEMPLATE)
    assert b"".join(response.streaming_content).decode() == TEXT
    ranged = registry.get(text_url(document), HTTP_RANGE="bytes=0-1")
    assert ranged.status_code == 206
    conforms(ranged, TEMPLATE)
    full, part = AuditEvent.objects.filter(action="document.download").order_by("id")
    assert (full.actor_label, full.object_id) == ("ipas", str(document.id))
    assert full.detail["rendition"] == "text" and part.detail["range"] == "bytes=0-1"


def test_problems_conform_and_are_not_audited(registry, public, dossier, conforms):
    unprocessed = file_document(dossier, b"claims", filename="claims.txt")
    for response, slug in [
        (registry.get(text_url(unprocessed)), "text-not-available"),
        (registry.get(text_url(unprocessed, 9)), "unknown-version"),
        (public.get(text_url(unprocessed)), "unknown-document"),
    ]:
        assert conforms(response, TEMPLATE)["type"] == f"/api/v1/problems/{slug}"
    assert not AuditEvent.objects.filter(action="document.download").exists()
