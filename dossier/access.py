"""Who may see and do what: the one place that decides it.

Every list, detail and download (API, UI, search) reads through `visible_dossiers`,
`visible_documents`, `get_dossier_for` and `get_document_for`; permission is never applied after
a result limit and never re-implemented in a view. The rules follow DOMAIN.md "Who may see what":

- a dossier under a secrecy order is seen only by admins, the registry system and examiners
  holding the `dossier.view_secret_dossier` permission, whatever else is true;
- the public sees a dossier once it is published (or from filing for the IP types listed in
  `EDMS_PUBLIC_FROM_FILING`), and of it only active documents whose visibility is `public` or
  `public_after_publication` — never `confidential` or `internal` ones. The publication date is
  `Dossier.published_at`, derived from the registry's case events (`dossier.case_events`: a
  withdrawal before publication keeps the file closed);
- a document marked `redaction_required` is public only once its latest version has a redacted
  copy, and the public then reads only that copy (`dossier.redaction`);
- an outgoing document (a letter of the office) is public only from the day after its dispatch
  (official) date, as at the EPO: the applicant must have been able to receive it first;
- records clerks see every document except `internal` ones (drafts, examiner notes);
- examiners, the registry system and admins see every document, cancelled tombstones included;
- scanned documents awaiting (or rejected in) quality control are seen only by records clerks and
  admins: they are not yet part of the file wrapper.
- other offices (WIPO CASE, `exchange.case`) receive only what the public could read of a
  *published* dossier (`shareable_documents`).

Domain events (the registry's change feed and webhooks) follow the same rules through
`visible_events`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from dossier.models import (
    QC_STATES,
    Direction,
    Document,
    DocumentState,
    Dossier,
    Event,
    Rendition,
    RenditionKind,
    Visibility,
)
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


def _public_dossier_q(today: dt.date, prefix: str = "") -> Q:
    published = Q(**{f"{prefix}published_at__lte": today})
    from_filing = Q(**{f"{prefix}ip_type__in": settings.EDMS_PUBLIC_FROM_FILING})
    return Q(**{f"{prefix}secret": False}) & (published | from_filing)


def _sees_secrets(user) -> bool:
    role = role_of(user)
    if role in (Role.ADMIN, Role.REGISTRY_SYSTEM):
        return True
    return role == Role.EXAMINER and user.has_perm(SECRET_PERMISSION)


def _dispatched_q(today: dt.date) -> Q:
    """Documents past their dispatch: anything but an outgoing document dated today or later."""
    return ~Q(direction=Direction.OUT) | Q(official_date__isnull=True) | Q(official_date__lt=today)


def _redacted_if_required_q() -> Q:
    """Documents not awaiting a redacted copy: not `redaction_required`, or their latest version
    has one."""
    copy_of_latest = Rendition.objects.filter(
        version__document=OuterRef("pk"),
        version__number=OuterRef("latest_version"),
        kind=RenditionKind.REDACTED,
    )
    return Q(redaction_required=False) | Q(Exists(copy_of_latest))


def visible_dossiers(user, *, today: dt.date | None = None) -> QuerySet[Dossier]:
    """The dossiers `user` may see on `today` (by default the current local date)."""
    role = role_of(user)
    dossiers = Dossier.objects.all()
    if role == Role.PUBLIC:
        if not settings.EDMS_PUBLIC_ACCESS:
            return dossiers.none()
        return dossiers.filter(_public_dossier_q(today or _today()))
    if not _sees_secrets(user):
        dossiers = dossiers.filter(secret=False)
    return dossiers


def visible_documents(user, *, today: dt.date | None = None) -> QuerySet[Document]:
    """The documents `user` may see on `today` (by default the current local date)."""
    role = role_of(user)
    documents = Document.objects.all()
    if role == Role.PUBLIC:
        if not settings.EDMS_PUBLIC_ACCESS:
            return documents.none()
        today = today or _today()
        return documents.filter(
            _public_dossier_q(today, "dossier__"),
            _dispatched_q(today),
            _redacted_if_required_q(),
            state=DocumentState.ACTIVE,
            visibility__in=[Visibility.PUBLIC, Visibility.PUBLIC_AFTER_PUBLICATION],
        )
    if not _sees_secrets(user):
        documents = documents.filter(dossier__secret=False)
    if role == Role.RECORDS_CLERK:
        documents = documents.exclude(visibility=Visibility.INTERNAL)
    if not can_do_quality_control(user):
        documents = documents.exclude(state__in=QC_STATES)
    return documents


def shareable_documents(*, today: dt.date | None = None) -> QuerySet[Document]:
    """The documents edms may give other offices (WIPO CASE): those of dossiers *published* by
    `today` that the public's rules let anyone read — active, `public` or
    `public_after_publication`, dispatched, redacted where required — and never of a secret
    dossier. Unlike `visible_documents` for the public, neither `EDMS_PUBLIC_FROM_FILING` (an
    office may open a trademark file at filing without sharing it) nor `EDMS_PUBLIC_ACCESS` (about
    anonymous readers of this instance) applies: publication is what makes a file shareable."""
    today = today or _today()
    return Document.objects.filter(
        _dispatched_q(today),
        _redacted_if_required_q(),
        dossier__secret=False,
        dossier__published_at__lte=today,
        state=DocumentState.ACTIVE,
        visibility__in=[Visibility.PUBLIC, Visibility.PUBLIC_AFTER_PUBLICATION],
        expunged_at__isnull=True,
    )


def visible_events(user) -> QuerySet[Event]:
    """The domain events `user` may learn of, by the change feed or by webhook.

    Only roles that may read the feed learn of events at all, and of those never events of a
    secret dossier unless they see secrets, nor of a document still held for quality control
    (none is announced while it is held, but a reprocessed held scan could be). The rule is
    applied when the event is read, so an event of a dossier made secret since disappears.
    """
    if not can_read_event_feed(user):
        return Event.objects.none()
    events = Event.objects.all()
    if not _sees_secrets(user):
        events = events.exclude(dossier_key__in=Dossier.objects.filter(secret=True).values("key"))
    if not can_do_quality_control(user):
        held = Document.objects.filter(state__in=QC_STATES).values("id")
        events = events.exclude(document_id__in=held)
    return events


# --- The same rules as principals, for engines that filter inside their index (search) ---------
#
# A document carries the principals that may read it; a user holds principals; the user may read
# the document when they share one, except that `PUBLIC` applies only from the document's
# `public_from` date (its dossier's publication), so an index need not change on that day.

PUBLIC = "public"
SECRET_CLEARED = "secret-cleared"


def _role_principal(role: Role) -> str:
    return f"role:{role.value}"


@dataclass(frozen=True)
class Readers:
    """Who may read a document: `principals`, and from when `PUBLIC` among them applies."""

    principals: frozenset[str]
    public_from: dt.date | None = None

    def allow(self, principals: frozenset[str], today: dt.date) -> bool:
        if self.principals & (principals - {PUBLIC}):
            return True
        return (
            PUBLIC in principals
            and PUBLIC in self.principals
            and self.public_from is not None
            and self.public_from <= today
        )


def document_readers(document: Document) -> Readers:
    """The principals that may read `document` (its dossier loaded), mirroring
    `visible_documents`: never compute visibility for an index anywhere else."""
    dossier = document.dossier
    if document.state in QC_STATES:
        qc_roles = (Role.ADMIN,) if dossier.secret else (Role.ADMIN, Role.RECORDS_CLERK)
        return Readers(frozenset(_role_principal(role) for role in qc_roles))
    if dossier.secret:
        principals = {_role_principal(Role.ADMIN), _role_principal(Role.REGISTRY_SYSTEM)}
        return Readers(frozenset(principals | {SECRET_CLEARED}))
    principals = {
        _role_principal(Role.ADMIN),
        _role_principal(Role.REGISTRY_SYSTEM),
        _role_principal(Role.EXAMINER),
    }
    if document.visibility != Visibility.INTERNAL:
        principals.add(_role_principal(Role.RECORDS_CLERK))
    public_from = _public_from(document)
    if public_from is not None:
        principals.add(PUBLIC)
    return Readers(frozenset(principals), public_from)


def _public_from(document: Document) -> dt.date | None:
    """The day the public may start reading the document; None if never (as things stand)."""
    public_kind = document.visibility in (Visibility.PUBLIC, Visibility.PUBLIC_AFTER_PUBLICATION)
    if document.state != DocumentState.ACTIVE or not public_kind:
        return None
    if document.redaction_required and not _latest_is_redacted(document):
        return None
    if document.dossier.ip_type in settings.EDMS_PUBLIC_FROM_FILING:
        opens = dt.date.min
    elif document.dossier.published_at is None:
        return None
    else:
        opens = document.dossier.published_at
    if document.direction == Direction.OUT and document.official_date is not None:
        # Public from the day after dispatch (`_dispatched_q`); dated on the last day there is:
        # never.
        if document.official_date == dt.date.max:
            return None
        opens = max(opens, document.official_date + dt.timedelta(days=1))
    return opens


def _latest_is_redacted(document: Document) -> bool:
    return Rendition.objects.filter(
        version__document=document,
        version__number=document.latest_version,
        kind=RenditionKind.REDACTED,
    ).exists()


def user_principals(user) -> frozenset[str]:
    """The principals `user` holds; agrees with `visible_documents(user)` via `Readers.allow`."""
    role = role_of(user)
    if role == Role.PUBLIC:
        return frozenset({PUBLIC}) if settings.EDMS_PUBLIC_ACCESS else frozenset()
    principals = {_role_principal(role)}
    if _sees_secrets(user):
        principals.add(SECRET_CLEARED)
    return frozenset(principals)


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


def can_redact(user) -> bool:
    """Store a redacted copy of a document for the public: the registry and records staff."""
    return role_of(user) in (Role.ADMIN, Role.REGISTRY_SYSTEM, Role.RECORDS_CLERK)


def can_record_citations(user) -> bool:
    """Record the citations of a search report: examiners and the registry."""
    return role_of(user) in (Role.ADMIN, Role.REGISTRY_SYSTEM, Role.EXAMINER)


def can_cancel_documents(user) -> bool:
    return role_of(user) in (Role.ADMIN, Role.REGISTRY_SYSTEM)


def can_expunge(user) -> bool:
    """Remove content for good (court orders, erasure): administrators only, never an API key of
    another role."""
    return role_of(user) == Role.ADMIN


def can_manage_retention(user) -> bool:
    """Place and release legal holds, read the disposition queue and approve disposition: the
    records manager's work, which edms gives administrators (it ends in expunge)."""
    return role_of(user) == Role.ADMIN


def sees_expunge_details(user) -> bool:
    """Whether `user` sees who expunged a version, why and on what authority, besides that it
    was and when: anyone with a role. Not the public: the reason and reference of a court order
    or an erasure request may themselves carry the personal data that was removed."""
    return role_of(user) != Role.PUBLIC


def can_read_audit_trail(user) -> bool:
    """Read who did what to a dossier (downloads included): administrators and records staff,
    who answer for the file wrapper as evidence."""
    return role_of(user) in (Role.ADMIN, Role.RECORDS_CLERK)


def can_see_operations(user) -> bool:
    """Operational state (index lag, queues): staff and the registry, not the public."""
    return role_of(user) != Role.PUBLIC


def can_do_quality_control(user) -> bool:
    """Submit scan batches, print cover sheets, and judge scanned documents before they count."""
    return role_of(user) in (Role.ADMIN, Role.RECORDS_CLERK)


def can_print_cover_sheets(user) -> bool:
    return role_of(user) in (Role.ADMIN, Role.RECORDS_CLERK, Role.REGISTRY_SYSTEM)


def can_read_event_feed(user) -> bool:
    return role_of(user) in (Role.ADMIN, Role.REGISTRY_SYSTEM)
