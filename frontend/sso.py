"""Single sign-on at an OpenID provider (mozilla-django-oidc), and the password sign-in beside it.

The provider is named by its issuer URL alone (`EDMS_OIDC_ISSUER`): its endpoints come from its
discovery document, read once per process when first needed, so a provider that is down does
not stop edms from starting (nor an emergency administrator from signing in with a password).

A person's edms role is derived from one claim (`EDMS_OIDC_ROLES_CLAIM`, e.g. `groups`) at
**every** sign-in through `EDMS_OIDC_ROLE_MAP`: the provider is the source of truth, so a
person moved to another group there has the new role at their next sign-in, and one who no
longer has any mapped group cannot sign in (their account is kept, for the audit trail).
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from dossier.roles import GROUP_ROLES, Role

logger = logging.getLogger(__name__)

# The roles a provider may grant; `registry_system` is for API keys of the registry, not people.
GRANTABLE_ROLES = (Role.ADMIN, Role.EXAMINER, Role.RECORDS_CLERK)

# mozilla-django-oidc's endpoint settings -> the discovery document's fields.
_ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_metadata_by_issuer: dict[str, dict] = {}


def provider_metadata() -> dict:
    """The provider's discovery document (OpenID Connect Discovery 1.0), fetched once."""
    issuer = settings.EDMS_OIDC_ISSUER
    if not issuer:
        raise ImproperlyConfigured("single sign-on is off: EDMS_OIDC_ISSUER is not set")
    if issuer not in _metadata_by_issuer:
        response = requests.get(
            f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT
        )
        response.raise_for_status()
        metadata = response.json()
        # Discovery 1.0 §4.3: the document must name the issuer it was fetched for.
        if metadata.get("issuer", "").rstrip("/") != issuer:
            raise ImproperlyConfigured(
                f"{issuer} publishes issuer {metadata.get('issuer')!r}: check EDMS_OIDC_ISSUER"
            )
        _metadata_by_issuer[issuer] = metadata
    return _metadata_by_issuer[issuer]


def _setting(name: str, *default):
    """mozilla-django-oidc's settings, its endpoint settings from the discovery document."""
    if name in _ENDPOINTS:
        return provider_metadata()[_ENDPOINTS[name]]
    return import_from_settings(name, *default)


def parse_role_map(raw: str) -> dict[str, Role]:
    """`"office-examiners=examiner, office-clerks=records_clerk"` -> {claim value: role}."""
    mapping: dict[str, Role] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        value, sep, role = item.rpartition("=")
        if not sep or not value.strip() or role.strip() not in GRANTABLE_ROLES:
            raise ImproperlyConfigured(
                f"EDMS_OIDC_ROLE_MAP: {item!r} is not 'claim value=role' with a role of "
                f"{', '.join(GRANTABLE_ROLES)}"
            )
        mapping[value.strip()] = Role(role.strip())
    return mapping


def roles_from_claims(claims: dict) -> set[Role]:
    """The edms roles that the roles claim's values map to (a string counts as one value)."""
    values = claims.get(settings.EDMS_OIDC_ROLES_CLAIM) or []
    if isinstance(values, str):
        values = [values]
    mapping = parse_role_map(settings.EDMS_OIDC_ROLE_MAP)
    return {mapping[value] for value in values if value in mapping}


class ProviderBackend(OIDCAuthenticationBackend):
    """Signs a person in with the provider's authorization code (with PKCE), creates their
    user at the first sign-in and sets their role groups from the claims at each one."""

    get_settings = staticmethod(_setting)

    def __init__(self, *args, **kwargs):
        # Not the parent's: it reads the endpoints at once, and Django builds every backend
        # for every sign-in (the password one included) and for every session's user.
        self.UserModel = get_user_model()

    # The endpoints and keys the parent reads as attributes, resolved when a sign-in needs them.
    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: _setting("OIDC_OP_TOKEN_ENDPOINT"))
    OIDC_OP_USER_ENDPOINT = property(lambda self: _setting("OIDC_OP_USER_ENDPOINT"))
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: _setting("OIDC_OP_JWKS_ENDPOINT"))
    OIDC_RP_CLIENT_ID = property(lambda self: settings.OIDC_RP_CLIENT_ID)
    OIDC_RP_CLIENT_SECRET = property(lambda self: settings.OIDC_RP_CLIENT_SECRET)
    OIDC_RP_SIGN_ALGO = property(lambda self: settings.OIDC_RP_SIGN_ALGO)
    OIDC_RP_IDP_SIGN_KEY = None

    def get_user(self, user_id):
        # Django's (the parent's skips it): a deactivated user's open sessions end at once.
        return ModelBackend.get_user(self, user_id)

    def authenticate(self, request, **kwargs):
        if not settings.EDMS_SSO_ENABLED:
            return None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token, **kwargs):
        """The parent checks the signature and the nonce; OpenID Connect Core §3.1.3.7 also
        wants the issuer and the audience checked."""
        payload = super().verify_token(token, **kwargs)
        if payload.get("iss", "").rstrip("/") != settings.EDMS_OIDC_ISSUER:
            raise SuspiciousOperation(f"ID token from another issuer: {payload.get('iss')!r}")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience or []
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token for another client")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        # The ID token's claims too: some providers (Microsoft Entra ID) put `groups` and
        # `roles` only there, not in the userinfo answer.
        return {**payload, **super().get_userinfo(access_token, id_token, payload)}

    def verify_claims(self, claims) -> bool:
        username = claims.get(settings.EDMS_OIDC_USERNAME_CLAIM)
        if not username:
            logger.warning("sign-in refused: no %s claim", settings.EDMS_OIDC_USERNAME_CLAIM)
            return False
        return True

    def filter_users_by_claims(self, claims):
        username = claims[settings.EDMS_OIDC_USERNAME_CLAIM]
        return self.UserModel.objects.filter(username=username)

    def get_or_create_user(self, access_token, id_token, payload):
        with transaction.atomic():
            return super().get_or_create_user(access_token, id_token, payload)

    def create_user(self, claims):
        roles = roles_from_claims(claims)
        if not roles:
            logger.warning(
                "sign-in refused: %s has no mapped %s",
                claims[settings.EDMS_OIDC_USERNAME_CLAIM],
                settings.EDMS_OIDC_ROLES_CLAIM,
            )
            return None
        user = self.UserModel(username=claims[settings.EDMS_OIDC_USERNAME_CLAIM])
        # Only the provider knows this person's password.
        user.set_unusable_password()
        return self._apply_claims(user, claims, roles)

    def update_user(self, user, claims):
        if not user.is_active:
            return None
        roles = roles_from_claims(claims)
        if not roles and not user.is_superuser:
            user.groups.remove(*Group.objects.filter(name__in=GROUP_ROLES))
            logger.warning("sign-in refused: %s lost every mapped role", user.username)
            return None
        return self._apply_claims(user, claims, roles)

    def _apply_claims(self, user, claims: dict, roles: set[Role]):
        user.email = claims.get("email", user.email) or ""
        user.first_name = (claims.get("given_name") or user.first_name)[:150]
        user.last_name = (claims.get("family_name") or user.last_name)[:150]
        # The Django admin is for edms administrators; superusers stay whatever they are.
        user.is_staff = user.is_superuser or Role.ADMIN in roles
        user.save()
        role_groups = Group.objects.filter(name__in=GROUP_ROLES)
        user.groups.remove(*role_groups.exclude(name__in=roles))
        user.groups.add(*role_groups.filter(name__in=roles))
        user.__dict__.pop("_edms_role", None)
        return user


def is_provider_sign_in(request, credentials: dict | None) -> bool:
    """django-axes' AXES_WHITELIST_CALLABLE: True for a sign-in through the provider (its
    callback's authorization code, sent with the PKCE verifier and the nonce; no password),
    which the sign-in limits neither count nor refuse.

    Without it, Django's `authenticate` reports every refused callback (a person with no mapped
    group, a deactivated account) as a failed sign-in, and django-axes counted them against the
    address: five refusals from an office's NAT address locked everyone behind it out of both
    single sign-on and the emergency password sign-in. No password is guessed there: the
    provider checked the password and limits its own failures, and a code is good once. Wrong
    passwords at edms's own sign-in (and wrong API keys) are still counted."""
    credentials = credentials or {}
    from_callback = "code_verifier" in credentials or "nonce" in credentials
    return from_callback and credentials.get("password") is None


class LocalPasswordBackend(ModelBackend):
    """Django's password sign-in, for the people `EDMS_LOCAL_LOGIN` allows: everyone, only
    superusers (an emergency administrator while the provider is down), or no one. Sessions
    and permissions of users signed in before are unaffected."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if settings.EDMS_LOCAL_LOGIN == "none":
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and settings.EDMS_LOCAL_LOGIN == "superusers":
            return user if user.is_superuser else None
        return user


class ProviderSignInView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider's sign-in page (authorization code flow with PKCE)."""

    get_settings = staticmethod(_setting)

    def __init__(self, **kwargs):
        # Not the parent's, which would fetch the discovery document for every request.
        View.__init__(self, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def get(self, request):
        if not settings.EDMS_SSO_ENABLED:
            raise Http404("single sign-on is off")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = _setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except requests.RequestException as exc:
            logger.error("the OpenID provider's discovery document: %s", exc)
            messages.error(request, _("The sign-in service does not answer. Try again later."))
            return redirect(settings.LOGIN_URL)
        return super().get(request)


class ProviderCallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back with a code; says so when no sign-in came of it
    (no mapped role, a disabled account, a refused or expired request)."""

    @property
    def failure_url(self) -> str:
        return reverse(settings.LOGIN_URL)

    def login_failure(self):
        messages.error(
            self.request,
            _("Single sign-on did not sign you in. Ask an administrator for access to edms."),
        )
        return super().login_failure()


def provider_logout_url(request) -> str:
    """Where signing out sends the browser: the provider's end-session endpoint (OpenID
    Connect RP-Initiated Logout 1.0) for a person who signed in there, so that the provider's
    session ends too; back to edms's home page afterwards."""
    back = request.build_absolute_uri(reverse(settings.LOGOUT_REDIRECT_URL))
    id_token = request.session.get("oidc_id_token")
    if not (settings.EDMS_SSO_ENABLED and id_token):
        return back  # an emergency administrator signed in with a password
    end_session = provider_metadata().get("end_session_endpoint")
    if not end_session:
        return back
    query = urlencode(
        {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": back,
            "client_id": settings.OIDC_RP_CLIENT_ID,
        }
    )
    return f"{end_session}?{query}"
