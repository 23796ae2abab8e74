"""Signed viewer links: asked for with credentials, opened in a browser without any.

`POST /documents/{id}/viewer-link` (the caller must be able to read the document) answers a URL
that shows the document's content for a few minutes to whoever opens it; `GET
/documents/{id}/view?token=…` is that URL. The link acts as its issuer: opening it checks again
what the issuer may read now (a revoked key, a deactivated account, a document withdrawn from
them: refused), and is audited as a view by the issuer.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import ApiKeyAuthentication
from api.content import JsonForErrors, blob_response
from api.models import ApiKey
from api.schema import CONTENT_HEADERS, content_responses, problems
from api.views.versions import rendition_filename
from dossier import access, actions, redaction
from dossier.actions.viewer_links import DEFAULT_LIFETIME, MAX_LIFETIME
from dossier.audit import Actor, actor_of, client_address
from dossier.models import Rendition, RenditionKind, Version
from dossier.roles import Role


class ViewerLinkRequestSerializer(serializers.Serializer):
    expires_in = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=int(MAX_LIFETIME.total_seconds()),
        default=int(DEFAULT_LIFETIME.total_seconds()),
        help_text="Seconds the link works (default 600, at most 3600).",
    )


class ViewerLinkSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Opens the document's content; needs no credentials.")
    expires_at = serializers.DateTimeField()


def _issuer(request) -> dict:
    """Enough to act as the caller again when the link is opened: the user, and the API key
    whose role they act in (a key's role is the key's, not the account's)."""
    key = request.auth if isinstance(request.auth, ApiKey) else None
    return {"user": request.user.pk, "key": key.pk if key else None}


def _issuer_user(issuer: dict):
    """The issuer as a user with the role they had, or None if they can no longer act."""
    if issuer.get("user") is None:
        return AnonymousUser()
    if issuer.get("key") is not None:
        key = (
            ApiKey.objects.select_related("user")
            .filter(pk=issuer["key"], user_id=issuer["user"], revoked_at__isnull=True)
            .first()
        )
        if key is None or not key.user.is_active:
            return None
        key.user._edms_role = Role(key.role)
        return key.user
    return get_user_model().objects.filter(pk=issuer["user"], is_active=True).first()


class ViewerLinkView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="A short-lived signed URL that shows the document in a browser, no credentials",
        request=ViewerLinkRequestSerializer,
        responses={201: ViewerLinkSerializer, **problems(404)},
    )
    def post(self, request, document_id):
        document = access.get_document_for(request.user, document_id)
        body = ViewerLinkRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        link = actions.issue_viewer_link(
            document,
            actor=actor_of(request),
            issuer=_issuer(request),
            lifetime=dt.timedelta(seconds=body.validated_data["expires_in"]),
        )
        path = reverse("api:document-view", args=[document.id])
        url = request.build_absolute_uri(f"{path}?token={link.token}")
        answer = ViewerLinkSerializer({"url": url, "expires_at": link.expires_at})
        return Response(answer.data, status=201)


class SignedViewView(APIView):
    """The document's content, shown inline, to whoever holds a valid link."""

    # The token is the credential: no session (and so no CSRF concern). An API key is not
    # needed; one sent is still checked, so a wrong key is the 401 it is everywhere.
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [permissions.AllowAny]
    content_negotiation_class = JsonForErrors

    @extend_schema(
        summary="Open a signed viewer link: the document's content (its PDF/A when there is one)",
        # Served like content: a PDF viewer asks for ranges.
        parameters=[OpenApiParameter("token", str, required=True), *CONTENT_HEADERS],
        responses={**content_responses(), **problems(403, 410)},
    )
    def get(self, request, document_id):
        grant = actions.check_viewer_link(request.query_params.get("token", ""), document_id)
        issuer = _issuer_user(grant.issuer)
        if issuer is None:
            raise actions.ViewerLinkInvalid("whoever made the viewer link can no longer read")
        try:
            document = access.get_document_for(issuer, document_id)
        except access.NotFound:
            raise actions.ViewerLinkInvalid(
                "the document is no longer readable by this link"
            ) from None
        version = (
            Version.objects.select_related("blob")
            .filter(document=document, number=document.latest_version)
            .first()
        )
        if version is None:
            raise actions.ViewerLinkInvalid("the document has no content to show")
        version.document = document
        # As the viewer does: a scan's PDF/A (its OCR text layer) rather than the original; for
        # an issuer who reads the document only redacted (the public), its redacted copy.
        shown = RenditionKind.PDFA
        if redaction.reads_redacted(issuer, document):
            shown = RenditionKind.REDACTED
        rendition = (
            Rendition.objects.select_related("blob").filter(version=version, kind=shown).first()
        )
        if rendition is None and shown == RenditionKind.REDACTED:
            raise actions.ViewerLinkInvalid("the document is public only as a redacted copy")
        if rendition is not None:
            response = blob_response(
                request,
                rendition.blob,
                media_type=rendition.media_type,
                filename=rendition_filename(version, shown),
                inline=True,
            )
        else:
            response = blob_response(
                request,
                version.blob,
                media_type=version.media_type,
                filename=version.filename,
                inline=True,
            )
        # The token is in the URL: never cached by anyone, never sent on as a Referer.
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "no-referrer"
        if response.status_code in (200, 206):
            actor = Actor(
                user=issuer,
                request_id=getattr(request, "request_id", ""),
                client_address=client_address(request),
            )
            actions.record_view(
                version,
                actor=actor,
                rendition=shown if rendition is not None else None,
                via="viewer-link",
            )
        return response
