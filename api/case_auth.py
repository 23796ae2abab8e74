"""Who calls the WIPO CASE providing service: a client of the registry (`exchange.models`) with a
bearer token from the CASE token endpoint. Never an edms API key or a session: CASE callers are
other offices, and edms's own roles mean nothing to them."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from dossier import log_context
from dossier.audit import Actor, client_address
from exchange.case.clients import client_for_token
from exchange.models import CaseClient


class CaseClientAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` → (anonymous user, the CASE client). An unknown or expired
    token is 401; a valid token of a client deactivated since is 403 (`CaseClientOnly`)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, token = header.partition(" ")
        if not header or scheme.lower() != self.keyword.lower():
            return None
        client = client_for_token(token.strip()) if token.strip() else None
        if client is None:
            raise exceptions.AuthenticationFailed(
                "the token is unknown or expired; get one from the CASE token endpoint"
            )
        log_context.bind(actor=f"CASE client {client.client_id}")
        return AnonymousUser(), client

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="edms-case"'


class CaseClientOnly(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        client = request.auth
        if not isinstance(client, CaseClient):
            raise exceptions.NotAuthenticated(
                "send Authorization: Bearer <token> from the CASE token endpoint"
            )
        if not client.active:
            raise exceptions.PermissionDenied("the CASE client is deactivated")
        return True


def case_actor(request) -> Actor:
    """The calling office as the actor of the audit trail."""
    client: CaseClient = request.auth
    return Actor(
        label=f"CASE {client.office_code} {client.client_id}",
        request_id=getattr(request, "request_id", ""),
        client_address=client_address(request),
    )


class CaseClientAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = CaseClientAuthentication
    name = "caseBearer"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "oauth2",
            "description": "A CASE client of the admin's registry (README, WIPO CASE).",
            "flows": {"clientCredentials": {"tokenUrl": "/api/v1/case/oauth2/token", "scopes": {}}},
        }
