"""What a document's domain events tell the subscribers and the registry."""

from __future__ import annotations

from dossier.models import Document, Version


def document_payload(document: Document, version: Version | None = None) -> dict:
    # The registry (IPAS) receives exactly such {documentId, type} notifications.
    payload = {
        "documentId": str(document.id),
        "type": document.doc_type_id,
        "registryId": document.registry_id,
    }
    if version is not None:
        payload |= {"version": version.number, "sha256": version.blob_id}
    return payload
