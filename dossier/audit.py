"""The audit trail: who did what, to which object, when, from where."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


def record_audit(
    actor: Actor,
    action: str,
    *,
    object_type: str,
    object_id: str,
    dossier_key: str = "",
    detail: dict | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor.user_or_none,
        actor_label=actor.name,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        dossier_key=dossier_key,
        request_id=actor.request_id,
        client_address=actor.client_address or None,
        detail=detail or {},
    )
