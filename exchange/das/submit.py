"""Starting a DAS request: checked, recorded, audited, and handed to its task on commit.

Each function returns at once; `exchange.das.tasks.advance_das_request` does the talking to DAS.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dossier.actions.errors import InvalidChange
from dossier.audit import Actor, record_audit
from dossier.models import Document, DocumentState, Dossier
from exchange.das.models import DasRequest, Operation, Role, State
from exchange.das.tasks import advance_das_request

# DAS's `documentKindCategory` for each kind of dossier that has priority documents.
DOCUMENT_KINDS = {
    "patent": "patent",
    "utility_model": "utility model",
    "design": "industrial design",
    "trademark": "trademark",
}
# Access codes as DAS shows them to applicants: four characters, none easily misread.
_ACCESS_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class DasNotConfiguredError(InvalidChange):
    """DAS is not configured on this installation."""


def new_access_code() -> str:
    return "".join(secrets.choice(_ACCESS_CODE_ALPHABET) for _ in range(4))


def request_registration(
    dossier: Dossier, document: Document, *, actor: Actor, access_code: str = ""
) -> DasRequest:
    """As office of first filing: register `document` (the certified priority document, the
    latest version sent) with DAS, under the dossier's number and filing date."""
    _check_configured()
    if document.dossier_id != dossier.id:
        raise InvalidChange("the document is not in this dossier", field="document")
    if document.state != DocumentState.ACTIVE:
        raise InvalidChange("only an active document can be registered", field="document")
    kind = _document_kind(dossier)
    if dossier.filing_date is None:
        raise InvalidChange("the dossier has no filing date, which DAS needs", field="dossier")
    return _start(
        dossier,
        actor,
        role=Role.OFF,
        operation=Operation.REGISTRATION,
        document=document,
        document_kind=kind,
        document_number=dossier.key,
        document_date=dossier.filing_date,
        access_code=_clean_code(access_code) or new_access_code(),
    )


def request_retrieval(
    dossier: Dossier,
    *,
    actor: Actor,
    document_number: str,
    access_code: str,
    document_date: dt.date | None = None,
    document_kind: str = "",
) -> DasRequest:
    """As office of second filing: retrieve the priority document `document_number` with the
    access code the applicant gave, to be filed in `dossier` as `PRIO`, channel `das`."""
    _check_configured()
    document_number = document_number.strip()
    if not document_number:
        raise InvalidChange("the priority document's number is required", field="document_number")
    code = _clean_code(access_code)
    if not code:
        raise InvalidChange("the access code is required", field="access_code")
    kind = document_kind or _document_kind(dossier)
    if kind not in DOCUMENT_KINDS.values():
        raise InvalidChange(
            f"document_kind is one of {', '.join(DOCUMENT_KINDS.values())}", field="document_kind"
        )
    return _start(
        dossier,
        actor,
        role=Role.OSF,
        operation=Operation.RETRIEVAL,
        document_kind=kind,
        document_number=document_number,
        document_date=document_date,
        access_code=code,
    )


def request_withdrawal(registration: DasRequest, *, actor: Actor) -> DasRequest:
    """As office of first filing: withdraw a registration that succeeded."""
    _check_configured()
    if registration.operation != Operation.REGISTRATION or registration.state != State.SUCCEEDED:
        raise InvalidChange("only a registration that succeeded can be withdrawn", field="request")
    if registration.withdrawals.filter(state__in=(State.QUEUED, State.PENDING)).exists():
        raise InvalidChange("a withdrawal of this registration is under way", field="request")
    return _start(
        registration.dossier,
        actor,
        role=Role.OFF,
        operation=Operation.WITHDRAWAL,
        withdraws=registration,
        document_kind=registration.document_kind,
        document_number=registration.document_number,
        document_date=registration.document_date,
        access_code=registration.access_code,
    )


def _start(dossier: Dossier, actor: Actor, **fields) -> DasRequest:
    with transaction.atomic():
        request = DasRequest.objects.create(
            dossier=dossier,
            requested_by=actor.name,
            next_attempt_at=timezone.now(),
            **fields,
        )
        record_audit(
            actor,
            f"das.{request.operation}.requested",
            object_type="das_request",
            object_id=request.id,
            dossier_key=dossier.key,
            detail={
                "role": request.role,
                "document_number": request.document_number,
                "document": str(request.document_id) if request.document_id else None,
            },
        )
        transaction.on_commit(lambda: advance_das_request.delay(str(request.id)))
    return request


def _check_configured() -> None:
    if not (settings.EDMS_DAS_URL and settings.EDMS_DAS_CLIENT_ID):
        raise DasNotConfiguredError("DAS is not configured on this installation (EDMS_DAS_URL)")


def _document_kind(dossier: Dossier) -> str:
    try:
        return DOCUMENT_KINDS[dossier.ip_type]
    except KeyError:
        raise InvalidChange(
            f"DAS holds no priority documents for a dossier of type {dossier.ip_type}",
            field="dossier",
        ) from None


def _clean_code(code: str) -> str:
    return (code or "").strip().upper()
