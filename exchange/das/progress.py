"""Moving one DAS request on by one step: send it, poll it, and finish it.

`advance(request_id)` is what the `advance_das_request` task runs; a test may call it directly,
passing `now` for the clock. It first claims the request with a conditional UPDATE (due, still
open), so a duplicate task never sends it twice and one that comes early does nothing.

A queued request is sent (a registration uploads its document first); a pending one is polled
until DAS reports `success` or `error`. On success a registration's certificate is filed in the
dossier, a retrieval's document is filed as `PRIO` with channel `das`, and a withdrawal marks
its registration withdrawn; all of it audited, the filings announced as any document is. DAS
unreachable (or 429/5xx) is retried with backoff up to EDMS_DAS_MAX_ATTEMPTS; a refusal, or a
status `error` (a wrong access code, a withdrawn document), fails the request with the reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import random

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dossier import actions, blobstore
from dossier.audit import Actor, record_audit
from dossier.models import DocumentType
from exchange.das.client import DasClient, DasError, DasRefused, DasUnavailable, Status
from exchange.das.models import OPEN_STATES, DasRequest, Operation, State

log = logging.getLogger(__name__)

ACTOR = Actor(label="das")
# A claimed request whose worker died may be claimed again after this long.
LEASE = dt.timedelta(minutes=5)
FIRST_RETRY_S = 30.0
LONGEST_RETRY_S = 3600.0


def retry_delay(attempts: int) -> float:
    """Seconds to wait after `attempts` transient failures: 30 s doubling to an hour, ±20 %."""
    base = min(FIRST_RETRY_S * 2 ** (attempts - 1), LONGEST_RETRY_S)
    return base * random.uniform(0.8, 1.2)


def advance(request_id, *, now: dt.datetime | None = None) -> float | None:
    """Take the request's next step if it is due; returns in how many seconds to come back
    (None: it is settled, not due, or another task has it)."""
    now = now or timezone.now()
    request = DasRequest.objects.filter(
        pk=request_id, state__in=OPEN_STATES, next_attempt_at__lte=now
    ).first()
    if request is None:
        return None
    claimed = DasRequest.objects.filter(
        pk=request.pk, state=request.state, next_attempt_at=request.next_attempt_at
    ).update(next_attempt_at=now + LEASE)
    if not claimed:
        return None
    try:
        client = DasClient()
        if request.state == State.QUEUED:
            _send(client, request)
            return _wait(request, now, settings.EDMS_DAS_POLL_SECONDS)
        status = client.status(request.das_request_id)
        if status.category == "pending":
            return _wait(request, now, settings.EDMS_DAS_POLL_SECONDS)
        if status.category == "success":
            _succeed(client, request, status, now)
        else:
            _fail(request, now, status.error_code or "error", status.message or "DAS: error")
        return None
    except DasUnavailable as exc:
        return _transient(request, now, exc)
    except DasRefused as exc:
        _fail(request, now, exc.code or f"http_{exc.status}", str(exc))
        return None
    except DasError as exc:  # not configured
        _fail(request, now, "not_configured", str(exc))
        return None


def notified(das_request_id: str) -> DasRequest | None:
    """DAS says the request has a new status: make its next poll due now."""
    request = DasRequest.objects.filter(das_request_id=das_request_id, state=State.PENDING).first()
    if request is not None:
        DasRequest.objects.filter(pk=request.pk, state=State.PENDING).update(
            next_attempt_at=timezone.now()
        )
    return request


def requeue_due() -> list[str]:
    """The ids of open requests that are due (a task lost with a broker restart)."""
    return [
        str(pk)
        for pk in DasRequest.objects.filter(
            state__in=OPEN_STATES, next_attempt_at__lte=timezone.now()
        ).values_list("pk", flat=True)
    ]


# --- steps ---------------------------------------------------------------------------------
def _send(client: DasClient, request: DasRequest) -> None:
    body = {
        "documentKindCategory": request.document_kind,
        "documentNumber": request.document_number,
        "documentDate": _iso(request.document_date),
        "dasAccessCode": request.access_code,
    }
    if request.operation == Operation.REGISTRATION:
        document = request.document
        if document is None:
            raise DasRefused("the document to register no longer exists", code="no_document")
        version = document.versions.select_related("blob").get(number=document.latest_version)
        content = b"".join(blobstore.read_verified(version.blob_id, version.blob.size))
        file_id = client.upload(content, filename=version.filename, media_type=version.media_type)
        body |= {
            "applicationCategory": "priority document",
            "applicationNumber": request.dossier.key,
            "applicationFilingDate": _iso(request.dossier.filing_date),
            "email": settings.EDMS_DAS_OFFICE_EMAIL,
            "fileId": file_id,
        }
    else:
        body |= {
            "applicationCategory": None,
            "applicationNumber": None,
            "applicationFilingDate": None,
            "email": None,
            "fileId": None,
        }
    das_request_id = client.submit(request.operation, body)
    DasRequest.objects.filter(pk=request.pk).update(
        state=State.PENDING, das_request_id=das_request_id, attempts=0
    )
    request.state, request.das_request_id = State.PENDING, das_request_id
    with transaction.atomic():
        _audit(request, "sent", {"das_request_id": das_request_id})


def _succeed(client: DasClient, request: DasRequest, status: Status, now: dt.datetime) -> None:
    # What is to be filed is fetched first, outside the transaction; filing it and settling the
    # request then commit together, so a retry never files it twice.
    number = request.document_number.replace("/", "-")
    to_file = None
    if request.operation == Operation.REGISTRATION:
        to_file = dict(
            content=client.certificate(request.das_request_id),
            type_code=settings.EDMS_DAS_CERTIFICATE_TYPE,
            filename=f"das-certificate-{number}.pdf",
            title=f"DAS registration certificate ({request.document_number})",
            field="certificate",
        )
    elif request.operation == Operation.RETRIEVAL:
        if not status.document_url:
            raise DasRefused("DAS reported success without a documentUrl", code="no_document")
        to_file = dict(
            content=client.download(status.document_url),
            type_code="PRIO",
            filename=f"priority-{number}.pdf",
            title=f"Priority document {request.document_number} (DAS)",
            field="document",
        )
    with transaction.atomic():
        changes: dict = {"available_from": status.available_from}
        detail = {"available_from": _iso(status.available_from)}
        if to_file is not None:
            field = to_file.pop("field")
            filed = _file(request, **to_file)
            changes[field] = filed
            detail["filed_document"] = str(filed.id)
        DasRequest.objects.filter(pk=request.pk).update(
            state=State.SUCCEEDED, finished_at=now, error_code="", last_error="", **changes
        )
        if request.operation == Operation.WITHDRAWAL:
            DasRequest.objects.filter(pk=request.withdraws_id).update(state=State.WITHDRAWN)
        _audit(request, "succeeded", detail)


def _file(request: DasRequest, content: bytes, *, type_code: str, filename: str, title: str):
    doc_type = DocumentType.objects.filter(code=type_code).first()
    if doc_type is None:
        raise DasRefused(f"document type {type_code} does not exist here", code="no_doc_type")
    staged = blobstore.spool([content], filename=filename, declared_type="application/pdf")
    version = actions.attach_document(
        request.dossier,
        staged,
        doc_type=doc_type,
        actor=ACTOR,
        channel="das",
        official_date=timezone.localdate(),
        title=title,
        registry_id=f"DAS:{request.das_request_id}",
    )
    return version.document


def _wait(request: DasRequest, now: dt.datetime, seconds: float) -> float:
    DasRequest.objects.filter(pk=request.pk).update(
        next_attempt_at=now + dt.timedelta(seconds=seconds)
    )
    return seconds


def _transient(request: DasRequest, now: dt.datetime, exc: DasError) -> float | None:
    attempts = request.attempts + 1
    if attempts >= settings.EDMS_DAS_MAX_ATTEMPTS:
        DasRequest.objects.filter(pk=request.pk).update(attempts=attempts)
        _fail(request, now, "gave_up", f"gave up after {attempts} attempts: {exc}")
        return None
    delay = retry_delay(attempts)
    DasRequest.objects.filter(pk=request.pk).update(
        attempts=attempts,
        last_error=str(exc)[:500],
        next_attempt_at=now + dt.timedelta(seconds=delay),
    )
    log.warning("DAS request %s: %s; again in %.0f s", request.pk, exc, delay)
    return delay


def _fail(request: DasRequest, now: dt.datetime, code: str, message: str) -> None:
    with transaction.atomic():
        DasRequest.objects.filter(pk=request.pk).update(
            state=State.FAILED, finished_at=now, error_code=code[:64], last_error=message[:500]
        )
        _audit(request, "failed", {"error_code": code[:64], "reason": message[:500]})


def _audit(request: DasRequest, outcome: str, detail: dict) -> None:
    record_audit(
        ACTOR,
        f"das.{request.operation}.{outcome}",
        object_type="das_request",
        object_id=request.id,
        dossier_key=request.dossier.key,
        detail={"document_number": request.document_number} | detail,
    )


def _iso(date: dt.date | None) -> str | None:
    return date.isoformat() if date else None
