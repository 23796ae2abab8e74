"""Who may see and do what: the one place that decides it.

Every list, detail and download (API, UI, search) reads through `visible_dossiers`,
`visible_documents`, `get_dossier_for` and `get_document_for`; permission is never applied after
a result limit and never re-implemented in a view. The rules follow DOMAIN.md "Who may see what":

- a dossier under a secrecy order is seen only by admins, the registry system and examiners
  holding the `dossier.view_secret_dossier` permission, whatever else is true;
- the public sees a dossier once it is published (or from filing for the IP types listed in
  `EDMS_PUBLIC_FROM_FILING`), and of it only active documents whose visibility is `public` or
  `public_after_publication` — never `confidential` or `internal` ones;
- records clerks see every document except `internal` ones (drafts, examiner notes);
- examiners, the registry system and admins see every document, cancelled tombstones included.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from dossier.models import Document, DocumentState, Dossier, Visibility
from dossier.numbering import normalise_key
from dossier.roles import Role, role_of

SECRET_PERMISSION = "dossier.view_secret_dossier"


class NotFound(Exception):
    """The object does not exist or the caller may not know that it exists."""

    def __init__(self, kind: str, ident: str):
        super().__init__(f"{kind} {ident!r} does not exist")
        self.kind = kind
        self.ident = ident


def _today() -> dt.date:
    return timezone.localdate()


def _public_dossier_q(prefix: str = "") -> Q:
    published = Q(**{f"{prefix}published_at__lte": _today()})
    from_filing = Q(**{f"{prefix}ip_type__in": settings.EDMS_PUBLIC_FROM_FILING})
    return Q(**{f"{prefix}secret": False}) & (published | from_filing)


def _sees_secrets(user) -> bool:
    role = role_of(user)
    if role in (Role.ADMIN, Role.REGISTRY_SYSTEM):
        return True
    return role == Role.EXAMINER and user.has_perm(SECRET_PERMISSION)


def visible_dossiers(user) -> QuerySet[Dossier]:
    role = role_of(user)
    dossiers = Dossier.objects.all()
    if role == Role.PUBLIC:
        if not settings.EDMS_PUBLIC_ACCESS:
            return dossiers.none()
        return dossiers.filter(_public_dossier_q())
    if not _sees_secrets(user):
        dossiers = dossiers.filter(secret=False)
    return dossiers


def visible_documents(user) -> QuerySet[Document]:
    role = role_of(user)
    documents = Document.objects.all()
    if role == Role.PUBLIC:
        if not settings.EDMS_PUBLIC_ACCESS:
            return documents.none()
        return documents.filter(
            _public_dossier_q("dossier__"),
            state=DocumentState.ACTIVE,
            visibility__in=[Visibility.PUBLIC, Visibility.PUBLIC_AFTER_PUBLICATION],
        )
    if not _sees_secrets(user):
        documents = documents.filter(dossier__secret=False)
    if role == Role.RECORDS_CLERK:
        documents = documents.exclude(visibility=Visibility.INTERNAL)
    return documents


def get_dossier_for(user, raw_key: str) -> Dossier:
    """The dossier named by any accepted form of its file number (or its UUID), if visible."""
    try:
        lookup = {"id": uuid.UUID(raw_key)}
    except ValueError:
        lookup = {"key": normalise_key(raw_key)}  # raises InvalidFileNumber for nonsense
    try:
        return visible_dossiers(user).get(**lookup)
    except Dossier.DoesNotExist:
        raise NotFound("dossier", raw_key) from None


def get_document_for(user, document_id) -> Document:
    try:
        ident = uuid.UUID(str(document_id))
        return visible_documents(user).select_related("dossier", "doc_type").get(id=ident)
    except (ValueError, Document.DoesNotExist):
        raise NotFound("document", str(document_id)) from None


# --- What a caller may do ---------------------------------------------------------------------


def can_manage_dossiers(user) -> bool:
    """Create and update dossiers from registry data."""
    return role_of(user) in (Role.ADMIN, Role.REGISTRY_SYSTEM)


def can_file_documents(user) -> bool:
    """Register documents and add versions."""
    return role_of(user) in (Role.ADMIN, Role.REGISTRY_SYSTEM, Role.EXAMINER, Role.RECORDS_CLERK)


def can_change_documents(user) -> bool:
    """Change a document's metadata or move it to another dossier."""
    return role_of(user) in (Role.ADMIN, Role.REGISTRY_SYSTEM, Role.EXAMINER, Role.RECORDS_CLERK)


def can_cancel_documents(user) -> bool:
    return role_of(user) in (Role.ADMIN, Role.REGISTRY_SYSTEM)


def can_read_event_feed(user) -> bool:
    return role_of(user) in (Role.ADMIN, Role.REGISTRY_SYSTEM)
