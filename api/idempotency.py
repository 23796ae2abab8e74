"""`Idempotency-Key` on POST, PUT and PATCH.

A registry retries when a response is lost. The first request with a key claims it; a retry
with the same key and the same *meaning* gets the first response replayed (`Idempotent-Replayed:
true`); the same key with another meaning is a 422; a retry while the first is still running is
a 409. "Meaning" is the method, path, query, the form or JSON fields and each file's SHA-256 and
name — not the raw bytes, because HTTP clients pick a new multipart boundary on each retry.
Server errors (5xx) release the key so the request can be retried for real.

A process killed mid-request (a crash, a deploy's SIGKILL) must not leave its claim behind: a
claim without a response would answer every retry with a 409, and once abandoned, a retry would
do the work again although the first had done it. On PostgreSQL (where several web processes
serve one database) the claim, the work and the remembered response are therefore one
transaction: a request that dies takes its claim with it, and a retry sent meanwhile waits on
the claim's row until the first request either commits (the retry is a replay) or dies (the
retry does the work). SQLite (the embedded default, one machine) holds its one write lock for a
whole transaction, so there the claim commits first and an abandoned one is taken over after
ABANDONED_AFTER; an error nothing handled releases it at once on both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from api.models import IdempotencyRecord
from api.problems import Problem

IDEMPOTENT_METHODS = ("POST", "PUT", "PATCH")
# A claim older than this without a response belongs to a request whose process died.
ABANDONED_AFTER = dt.timedelta(minutes=30)
_REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")


class Replay(Exception):
    def __init__(self, record: IdempotencyRecord):
        self.record = record


def request_fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(
        f"{request.method} {request.path}?{request.META.get('QUERY_STRING', '')}\n".encode()
    )
    data = request.data
    if isinstance(data, QueryDict):
        fields = {key: data.getlist(key) for key in sorted(data.keys())}
    else:
        fields = data
    digest.update(json.dumps(fields, sort_keys=True, default=str).encode())
    files = request.FILES  # a MultiValueDict, or a plain dict from the raw-body parser
    for name in sorted(files.keys()):
        for uploaded in files.getlist(name) if hasattr(files, "getlist") else [files[name]]:
            digest.update(f"\n{name}={getattr(uploaded, 'sha256', '')}:{uploaded.name}".encode())
    return digest.hexdigest()


def owner_of(request) -> str:
    auth = request.auth
    if auth is not None and hasattr(auth, "name"):
        return f"key:{auth.name}"
    return f"user:{request.user.pk}"


def claim(request, key: str) -> IdempotencyRecord:
    """Claim `key` for this request, or raise `Replay` / a 409 / a 422 problem."""
    if len(key) > 200:
        raise Problem(
            "validation-error",
            "Idempotency-Key is longer than 200 characters",
            field="Idempotency-Key",
        )
    owner = owner_of(request)
    fingerprint = request_fingerprint(request)
    now = timezone.now()
    expired = now - dt.timedelta(hours=settings.EDMS_IDEMPOTENCY_TTL_HOURS)
    IdempotencyRecord.objects.filter(owner=owner, key=key, created_at__lt=expired).delete()
    IdempotencyRecord.objects.filter(
        owner=owner, key=key, completed=False, created_at__lt=now - ABANDONED_AFTER
    ).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                owner=owner,
                key=key,
                fingerprint=fingerprint,
                method=request.method,
                path=request.path,
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.get(owner=owner, key=key)
    if existing.fingerprint != fingerprint:
        raise Problem(
            "idempotency-key-reused",
            "this Idempotency-Key was used for a different request",
            field="Idempotency-Key",
        )
    if not existing.completed:
        raise Problem(
            "idempotency-conflict",
            "a request with this Idempotency-Key is still being processed; retry later",
            field="Idempotency-Key",
        )
    raise Replay(existing)


def remember(record: IdempotencyRecord, response) -> None:
    if response.status_code >= 500:
        record.delete()
        return
    record.completed = True
    record.status_code = response.status_code
    # Through DRF's encoder, as the response itself is rendered: bodies may hold UUIDs.
    record.response_body = json.loads(json.dumps(getattr(response, "data", None), cls=JSONEncoder))
    record.response_headers = {h: response[h] for h in _REPLAYED_HEADERS if response.has_header(h)}
    if getattr(response, "content_type", None):
        # DRF sets Content-Type only when it renders; a problem's own type is known already.
        record.response_headers["Content-Type"] = response.content_type
    record.save(update_fields=["completed", "status_code", "response_body", "response_headers"])


def replay(record: IdempotencyRecord) -> Response:
    headers = dict(record.response_headers)
    content_type = headers.pop("Content-Type", None)
    if content_type and "problem+json" not in content_type:
        content_type = None
    response = Response(
        record.response_body, status=record.status_code, headers=headers, content_type=content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


def claims_with_the_work() -> bool:
    """Whether a claim is made in the request's own transaction (see the module's docstring)."""
    return transaction.get_connection().vendor == "postgresql"


class IdempotentMixin:
    """For APIViews: honour `Idempotency-Key` on the unsafe methods they implement."""

    # False for a view whose work is several actions, each in its own transaction (approving a
    # disposition batch): one transaction around them all would hold the audit chain's head
    # from the first action's audit row on while the next action locks its document, the
    # reverse of every action's own order (see dossier.audit_chain). Its claim commits first,
    # as on SQLite; the work is safe to retry (each item is claimed by a conditional update).
    claim_with_the_work = True

    def dispatch(self, request, *args, **kwargs):
        if request.method not in IDEMPOTENT_METHODS or "Idempotency-Key" not in request.headers:
            return super().dispatch(request, *args, **kwargs)
        try:
            if self.claim_with_the_work and claims_with_the_work():
                with transaction.atomic():
                    return super().dispatch(request, *args, **kwargs)
            return super().dispatch(request, *args, **kwargs)
        except BaseException:
            # Nothing answered (an error no handler turned into a response): release the key.
            record = getattr(self, "_idempotency_record", None)
            if record is not None and record.pk is not None:
                IdempotencyRecord.objects.filter(pk=record.pk, completed=False).delete()
            raise

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._idempotency_record = None
        key = request.headers.get("Idempotency-Key")
        if key and request.method in IDEMPOTENT_METHODS:
            self._idempotency_record = claim(request, key.strip())

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            return replay(exc.record)
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(self, "_idempotency_record", None)
        if record is not None:
            self._idempotency_record = None
            remember(record, response)
        return response
