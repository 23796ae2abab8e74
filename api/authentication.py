"""`Authorization: Bearer <api key>` authentication for integrated systems."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from api.models import KEY_PREFIX, ApiKey, hash_secret
from dossier import log_context
from dossier.roles import Role


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        token = token.strip()
        if not token:
            raise exceptions.AuthenticationFailed("the Bearer token is empty")
        api_key = (
            ApiKey.objects.select_related("user")
            .filter(key_hash=hash_secret(token), revoked_at__isnull=True)
            .first()
        )
        if api_key is None or not api_key.user.is_active:
            _refuse_wrong_key(request, token)
        # Touch last_used_at at most once a minute: no write per request.
        now = timezone.now()
        if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        user = api_key.user
        user._edms_role = Role(api_key.role)
        # The actor of the request's log lines: the key's service user (named as the key), or
        # the person and their key's name; never the secret.
        name = user.get_username()
        log_context.bind(actor=name if name == api_key.name else f"{name} (API key {api_key.name})")
        return user, api_key

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="edms"'


def _key_account(token: str) -> str:
    """The account a key names: its public prefix (`edms_<prefix>_<secret>`), else the malformed
    keys' common account (they can never succeed, so locking them together harms nobody)."""
    parts = token.split("_")
    if len(parts) >= 3 and parts[0] == KEY_PREFIX and parts[1].isalnum() and len(parts[1]) <= 16:
        return f"api-key:{parts[1]}"
    return "api-key:malformed"


def _refuse_wrong_key(request, token: str) -> None:
    """Count a wrong key against its address and account (django-axes); 429 once either is over
    the limit, else 401. Only wrong keys are counted and refused: a valid one keeps working."""
    django_request = request._request
    credentials = {"username": _key_account(token)}
    if not AxesProxyHandler.is_locked(django_request, credentials):
        user_login_failed.send(sender=__name__, credentials=credentials, request=django_request)
        if not getattr(django_request, "axes_locked_out", False):
            raise exceptions.AuthenticationFailed("the API key is unknown or revoked")
    raise exceptions.Throttled(
        wait=settings.AXES_COOLOFF_TIME.total_seconds(),
        detail="too many wrong API keys from this address or for this key; try again later",
    )


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes `ApiKeyAuthentication` in the OpenAPI schema as HTTP Bearer."""

    target_class = ApiKeyAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key made with `edms createapikey` or in the admin.",
        }
