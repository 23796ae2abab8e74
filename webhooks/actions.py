"""The settings of a webhook: what a URL may be, and creating, changing and deleting webhooks.

Each action runs in one transaction and writes its audit event; the API's views and the
admin's forms call them. What happens to events once a webhook exists is `webhooks.deliveries`.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from django.db import transaction

from dossier.audit import Actor, record_audit
from dossier.models import Event
from webhooks.models import Webhook, new_secret
from webhooks.targets import host_problem

EDITABLE_FIELDS = ("url", "kinds", "dossier_prefix", "description", "active")


def url_problem(url: str) -> str:
    """Why `url` cannot receive webhooks; empty if it can."""
    if not url or any(char.isspace() for char in url):
        return "the URL is empty or contains spaces"
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        return "the URL must start with https:// (or http://)"
    if parts.username is not None or parts.password is not None:
        return "the URL must not hold credentials: receivers verify X-Edms-Signature instead"
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "the URL's port is not a number from 0 to 65535"
    if not parts.hostname:
        return "the URL names no host"
    # Names are checked again, resolved, at every delivery (webhooks.targets).
    return host_problem(parts.hostname)


def normalise_prefix(raw: str) -> str:
    """A dossier prefix in the form of stored keys (`bg / p/` → `BG/P/`)."""
    text = unicodedata.normalize("NFC", raw.strip())
    return re.sub(r"\s*/\s*", "/", text).upper()


def outbox_head() -> int:
    """The last event recorded so far: a webhook created now hears of the ones after it."""
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def create_webhook(
    *,
    owner,
    url: str,
    actor: Actor,
    api_key=None,
    kinds: list[str] | None = None,
    dossier_prefix: str = "",
    description: str = "",
    active: bool = True,
) -> Webhook:
    """A new active webhook hearing of events from now on; its secret is on the returned row."""
    with transaction.atomic():
        webhook = Webhook.objects.create(
            owner=owner,
            api_key=api_key,
            url=url,
            kinds=kinds or [],
            dossier_prefix=normalise_prefix(dossier_prefix),
            description=description,
            active=active,
            after_event_id=outbox_head(),
        )
        audit_created(webhook, actor)
    return webhook


def update_webhook(
    webhook: Webhook, changes: dict, *, actor: Actor, rotate_secret: bool = False
) -> Webhook:
    """Change the fields of `EDITABLE_FIELDS` in `changes`; `rotate_secret` draws a new one
    (deliveries already queued are signed with it too)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
        for field, value in changes.items():
            setattr(webhook, field, normalise_prefix(value) if field == "dossier_prefix" else value)
        if rotate_secret:
            webhook.secret = new_secret()
        webhook.save()
        now_set = _settings_of(webhook)
        detail = {"changed": {field: now_set[field] for field in changes}}
        _audit(actor, "webhook.update", webhook, detail | {"secret_rotated": rotate_secret})
    return webhook


def delete_webhook(webhook: Webhook, *, actor: Actor) -> None:
    """Delete the webhook and its deliveries (a queued attempt then finds nothing to do)."""
    with transaction.atomic():
        _audit(actor, "webhook.delete", webhook, _settings_of(webhook))
        webhook.delete()


def _settings_of(webhook: Webhook) -> dict:
    return {
        "url": webhook.url,
        "kinds": webhook.kinds,
        "dossier_prefix": webhook.dossier_prefix,
        "description": webhook.description,
        "active": webhook.active,
    }


def audit_created(webhook: Webhook, actor: Actor) -> None:
    """For a webhook created elsewhere than `create_webhook` (the admin's form)."""
    _audit(actor, "webhook.create", webhook, _settings_of(webhook))


def _audit(actor: Actor, action: str, webhook: Webhook, detail: dict) -> None:
    record_audit(actor, action, object_type="webhook", object_id=str(webhook.pk), detail=detail)
