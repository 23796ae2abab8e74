"""Every change to a dossier goes through one of these actions.

An action validates what only the domain can judge, runs in one database transaction, writes
its audit event and appends its domain event (which the registry's feed and the subscribers
read). Content is promoted to blob storage *before* the transaction, so a version row is only
ever created for content that is completely stored.

The actions live in modules by what they change: `dossiers`, `case_events` (the registry's
legal-status events), `filing` (content in: a new document, a new version), `documents`
(metadata, moves, cancellation), `versions` (an older version restored), `expunge` (content
removed for good), `legal_holds` (a dossier or document kept whatever retention says), `paper`
(a paper original received), `redaction` (a redacted copy for the public), `quality_control`
(scanned documents held for QC), `downloads` (reading is audited) and `viewer_links` (signed
links that open one document without credentials); `errors` holds what they refuse. This
package is their public face: callers write `actions.attach_document(...)`.
"""

from __future__ import annotations

from dossier.actions.case_events import record_case_event
from dossier.actions.documents import DOCUMENT_FIELDS, cancel_document, update_document
from dossier.actions.dossiers import DOSSIER_FIELDS, upsert_dossier
from dossier.actions.downloads import record_download, record_view
from dossier.actions.errors import (
    ContentExpunged,
    ContentLocked,
    DigestMismatch,
    DocumentCancelledError,
    DomainError,
    InvalidChange,
    LegalHoldActive,
)
from dossier.actions.expunge import expunge_document, purge_expunged_blobs
from dossier.actions.filing import add_version, attach_document
from dossier.actions.legal_holds import (
    active_holds_on,
    held_documents,
    place_legal_hold,
    release_legal_hold,
)
from dossier.actions.paper import record_paper_original
from dossier.actions.quality_control import approve_scanned_document, reject_scanned_document
from dossier.actions.redaction import store_redacted_copy
from dossier.actions.versions import restore_version
from dossier.actions.viewer_links import (
    ViewerLinkExpired,
    ViewerLinkInvalid,
    check_viewer_link,
    issue_viewer_link,
)

__all__ = [
    "DOCUMENT_FIELDS",
    "DOSSIER_FIELDS",
    "ContentExpunged",
    "ContentLocked",
    "DigestMismatch",
    "DocumentCancelledError",
    "DomainError",
    "InvalidChange",
    "LegalHoldActive",
    "ViewerLinkExpired",
    "ViewerLinkInvalid",
    "active_holds_on",
    "add_version",
    "approve_scanned_document",
    "attach_document",
    "cancel_document",
    "check_viewer_link",
    "expunge_document",
    "held_documents",
    "issue_viewer_link",
    "place_legal_hold",
    "purge_expunged_blobs",
    "record_case_event",
    "record_download",
    "record_paper_original",
    "record_view",
    "reject_scanned_document",
    "release_legal_hold",
    "restore_version",
    "store_redacted_copy",
    "update_document",
    "upsert_dossier",
]
