"""Every change to a dossier goes through one of these actions.

An action validates what only the domain can judge, runs in one database transaction, writes
its audit event and appends its domain event (which the registry's feed and the subscribers
read). Content is promoted to blob storage *before* the transaction, so a version row is only
ever created for content that is completely stored.

The actions live in modules by what they change: `dossiers`, `case_events` (the registry's
legal-status events), `filing` (content in: a new document, a new version), `documents`
(metadata, moves, cancellation), `quality_control` (scanned documents held for QC) and
`downloads` (reading is audited); `errors` holds what they refuse. This package is their
public face: callers write `actions.attach_document(...)`.
"""

from __future__ import annotations

from dossier.actions.case_events import record_case_event
from dossier.actions.documents import DOCUMENT_FIELDS, cancel_document, update_document
from dossier.actions.dossiers import DOSSIER_FIELDS, upsert_dossier
from dossier.actions.downloads import record_download
from dossier.actions.errors import (
    DigestMismatch,
    DocumentCancelledError,
    DomainError,
    InvalidChange,
)
from dossier.actions.filing import add_version, attach_document
from dossier.actions.quality_control import approve_scanned_document, reject_scanned_document

__all__ = [
    "DOCUMENT_FIELDS",
    "DOSSIER_FIELDS",
    "DigestMismatch",
    "DocumentCancelledError",
    "DomainError",
    "InvalidChange",
    "add_version",
    "approve_scanned_document",
    "attach_document",
    "cancel_document",
    "record_case_event",
    "record_download",
    "reject_scanned_document",
    "update_document",
    "upsert_dossier",
]
