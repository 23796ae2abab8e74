"""The audit trail: who did what, to which object, when, from where."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from dossier import audit_chain
from dossier.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who acts, and the request they act through (empty for commands and tasks)."""

    user: Any = None
    request_id: str = ""
    client_address: str | None = None
    label: str = field(default="")

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        if self.user is not None and self.user.is_authenticated:
            return self.user.get_username()
        return "anonymous"

    @property
    def user_or_none(self):
        if self.user is not None and self.user.is_authenticated:
            return self.user
        return None


SYSTEM = Actor(label="system")


def actor_of(request) -> Actor:
    """The caller of a request (the API's or the UI's) as the actor of what it does."""
    return Actor(
        user=request.user,
        request_id=getattr(request, "request_id", ""),
        client_address=client_address(request),
    )


def client_address(request) -> str | None:
    """The caller's address (audit trail, sign-in limits): what the socket saw, or behind a
    proxy (EDMS_BEHIND_PROXY) the address the proxy appended last to X-Forwarded-For. Earlier
    entries are whatever the client claimed, so they are never believed."""
    if settings.EDMS_BEHIND_PROXY:
        appended = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(appended))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR") or None


def record_audit(
    actor: Actor,
    action: str,
    *,
    object_type: str,
    object_id: str,
    dossier_key: str = "",
    detail: dict | None = None,
) -> AuditEvent:
    user = actor.user_or_none
    event = AuditEvent(
        actor=user,
        actor_ref=str(user.pk) if user is not None else "",
        actor_label=actor.name,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        dossier_key=dossier_key,
        request_id=actor.request_id,
        client_address=actor.client_address or None,
        detail=detail or {},
    )
    if not settings.EDMS_AUDIT_CHAIN:  # only the benchmark's baseline
        event.save(force_insert=True)
        return event
    return audit_chain.append(event)
