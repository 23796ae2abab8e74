"""What the actions refuse: a `DomainError` with a stable `code` and, where there is one, the
offending input's `field`."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; `field` names the offending input where there is one."""

    code = "invalid-request"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class DigestMismatch(DomainError):
    code = "digest-mismatch"


class DocumentCancelledError(DomainError):
    code = "document-cancelled"


class InvalidChange(DomainError):
    code = "invalid-change"


class ContentExpunged(DomainError):
    """The version's content was expunged: it is a tombstone, nothing can be read or made of it."""

    code = "content-expunged"


class LegalHoldActive(DomainError):
    """A legal hold covers the document (or its dossier): nothing of it may be removed."""

    code = "legal-hold"


class ContentLocked(LegalHoldActive):
    """The bucket keeps the content under S3 Object Lock (a retention date not yet passed, an
    object legal hold): it cannot be expunged until then. Answered as the problem `legal-hold`
    too: something keeps the document, here the store itself."""
