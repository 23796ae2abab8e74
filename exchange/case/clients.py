"""CASE callers: OAuth2 client credentials (RFC 6749 §4.4) for the offices in the client registry.

Secrets and tokens are random 256-bit values, stored only as SHA-256 digests. A fast hash is
enough for values with that much entropy (as for edms's API keys), and a slow one would hand
anyone who can reach the token endpoint a lever on the CPU. Tokens live
`EDMS_CASE_TOKEN_SECONDS` (WIPO's own exchange tokens last an hour); expired ones are removed
when the client next asks for one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from exchange.models import CaseClient, CaseToken

TOKEN_PREFIX = "case_"


class InvalidClient(Exception):
    """Unknown client, wrong secret or deactivated client (RFC 6749 `invalid_client`)."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_client(*, name: str, office_code: str) -> tuple[CaseClient, str]:
    """A new active client and its secret, which is shown this once and never stored."""
    secret = secrets.token_urlsafe(32)
    client = CaseClient.objects.create(
        client_id=f"case-{secrets.token_hex(8)}",
        secret_hash=digest(secret),
        name=name,
        office_code=office_code.upper(),
    )
    return client, secret


def new_secret(client: CaseClient) -> str:
    """Replace the client's secret (its tokens end with the old one); returns the new secret."""
    secret = secrets.token_urlsafe(32)
    CaseClient.objects.filter(pk=client.pk).update(secret_hash=digest(secret))
    CaseToken.objects.filter(client=client).delete()
    return secret


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int  # seconds


def issue_token(client_id: str, secret: str) -> IssuedToken:
    """A bearer token for an active client whose secret matches; raises `InvalidClient`."""
    client = CaseClient.objects.filter(client_id=client_id).first()
    # Compared whether or not the client exists, so the answer's timing does not tell.
    expected = client.secret_hash if client is not None else digest("")
    if not hmac.compare_digest(expected, digest(secret)) or client is None or not client.active:
        raise InvalidClient(client_id)
    now = timezone.now()
    lifetime = settings.EDMS_CASE_TOKEN_SECONDS
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    CaseToken.objects.filter(client=client, expires_at__lte=now).delete()
    CaseToken.objects.create(
        token_hash=digest(token),
        client=client,
        issued_at=now,
        expires_at=now + dt.timedelta(seconds=lifetime),
    )
    CaseClient.objects.filter(pk=client.pk).update(last_token_at=now)
    return IssuedToken(token, lifetime)


def client_for_token(token: str) -> CaseClient | None:
    """The client a bearer token was issued to, while the token lasts; None for an unknown or
    expired token. The client may have been deactivated since: the caller checks `active`."""
    found = (
        CaseToken.objects.select_related("client")
        .filter(token_hash=digest(token), expires_at__gt=timezone.now())
        .first()
    )
    return found.client if found is not None else None
