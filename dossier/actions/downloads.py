"""Reading is audited too: every download of content or of a rendition."""

from __future__ import annotations

from dossier.audit import Actor, record_audit
from dossier.models import Version


def record_download(
    version: Version,
    *,
    actor: Actor,
    byte_range: str | None = None,
    rendition: str | None = None,
) -> None:
    """Audit a content download (every view and download is audited, public ones too);
    `rendition` names the form read when it is not the original (e.g. `pdfa`)."""
    detail = {"version": version.number, "sha256": version.blob_id}
    if byte_range:
        detail["range"] = byte_range
    if rendition:
        detail["rendition"] = rendition
    record_audit(
        actor,
        "document.download",
        object_type="document",
        object_id=version.document_id,
        dossier_key=version.document.dossier.key,
        detail=detail,
    )


def record_view(version: Version, *, actor: Actor, rendition: str | None = None, via: str) -> None:
    """Audit the document shown to someone (e.g. `via` a signed viewer link): a view of the
    version, or of its `rendition`."""
    detail = {"version": version.number, "sha256": version.blob_id, "via": via}
    if rendition:
        detail["rendition"] = rendition
    record_audit(
        actor,
        "document.view",
        object_type="document",
        object_id=version.document_id,
        dossier_key=version.document.dossier.key,
        detail=detail,
    )
