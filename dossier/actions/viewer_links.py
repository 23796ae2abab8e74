"""Short-lived signed links that open one document in a browser without credentials.

A link carries the document's id, who asked for it and how long it lives, signed with the
installation's secret key (`TimestampSigner`: the signature covers its issue time). Whoever
holds the link reads that document, as the person who asked for it, until it expires; nothing
is stored, so a link cannot be revoked, only outlived: hence the short lifetime (at most an
hour). Opening it is checked again against what the issuer may read now, and audited as a view.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core import signing

from dossier.actions.errors import DomainError, InvalidChange
from dossier.audit import Actor, record_audit
from dossier.models import Document

DEFAULT_LIFETIME = dt.timedelta(minutes=10)
MAX_LIFETIME = dt.timedelta(hours=1)
# A signature made for a viewer link is worth nothing anywhere else that signs with the key.
SALT = "edms.viewer-link"


class ViewerLinkInvalid(DomainError):
    """The link was altered, made with another key, or is for another document."""

    code = "viewer-link-invalid"


class ViewerLinkExpired(DomainError):
    code = "viewer-link-expired"


@dataclass(frozen=True)
class ViewerLink:
    token: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class ViewerGrant:
    """What a valid link grants: its document, read as `issuer` (what the caller of
    `issue_viewer_link` passed: enough to find the issuer again)."""

    document_id: str
    issuer: dict


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def issue_viewer_link(
    document: Document,
    *,
    actor: Actor,
    issuer: dict,
    lifetime: dt.timedelta = DEFAULT_LIFETIME,
) -> ViewerLink:
    """A link to `document` for `lifetime` (the caller has checked the actor may read it).
    `issuer` is JSON the opening needs to act as the actor again (e.g. user and API key ids)."""
    if not dt.timedelta(seconds=1) <= lifetime <= MAX_LIFETIME:
        raise InvalidChange(
            f"a viewer link lives 1 s to {int(MAX_LIFETIME.total_seconds())} s",
            field="expires_in",
        )
    seconds = int(lifetime.total_seconds())
    token = _signer().sign_object({"d": str(document.id), "s": seconds, "i": issuer})
    issued_at = dt.datetime.fromtimestamp(signing.b62_decode(token.rsplit(":", 2)[-2]), tz=dt.UTC)
    expires_at = issued_at + dt.timedelta(seconds=seconds)
    record_audit(
        actor,
        "document.viewer_link",
        object_type="document",
        object_id=document.id,
        dossier_key=document.dossier.key,
        detail={"expires_at": expires_at.isoformat()},
    )
    return ViewerLink(token, expires_at)


def check_viewer_link(token: str, document_id) -> ViewerGrant:
    """What `token` grants for `document_id`; refuses one altered, for another document, or
    past its lifetime (which is itself signed, so it cannot be stretched)."""
    signer = _signer()
    try:
        payload = signer.unsign_object(token)
    except signing.BadSignature:
        raise ViewerLinkInvalid("the viewer link is not valid") from None
    if payload.get("d") != str(document_id):
        raise ViewerLinkInvalid("the viewer link is for another document")
    lifetime = min(int(payload.get("s", 0)), int(MAX_LIFETIME.total_seconds()))
    try:
        signer.unsign_object(token, max_age=lifetime)
    except signing.SignatureExpired:
        raise ViewerLinkExpired("the viewer link has expired; ask for a new one") from None
    return ViewerGrant(payload["d"], payload.get("i") or {})
